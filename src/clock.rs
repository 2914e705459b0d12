//! Time in one place: UTC, microsecond precision (what both backends store).

use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeZone, Utc};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

pub fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

pub fn to_utc(t: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&t)
}
