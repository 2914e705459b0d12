//! Time in one place. Instants are UTC with microsecond precision (what both backends store) and
//! are shown as RFC 3339 UTC. Dates are the registry's local dates: `REGISTRY_TIMEZONE` (default
//! Asia/Shanghai) decides when "today" begins, so validity, expiry, the end of a public notice,
//! the year in a designation number and plan years change at local midnight.
//!
//! Each rule is a pure function of an instant and a zone (`*_at`), tested with injected times;
//! the plain functions apply them to the system clock and the configured zone.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SubsecRound, TimeZone, Utc};
use chrono_tz::Tz;

/// The zone the registry keeps its dates in unless `REGISTRY_TIMEZONE` says otherwise.
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Shanghai;

static ZONE: OnceLock<Tz> = OnceLock::new();

/// Sets the registry's zone, once per process (at startup); later calls keep the first zone.
pub fn set_timezone(tz: Tz) -> Tz {
    *ZONE.get_or_init(|| tz)
}

pub fn timezone() -> Tz {
    *ZONE.get_or_init(|| DEFAULT_TIMEZONE)
}

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// Today's local date.
pub fn today() -> NaiveDate {
    today_at(Utc::now(), timezone())
}

/// The local date at instant `now`.
pub fn today_at(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The last instant (UTC, as stored) of local date `date`.
pub fn end_of_day(date: NaiveDate) -> NaiveDateTime {
    end_of_day_in(date, timezone())
}

pub fn end_of_day_in(date: NaiveDate, tz: Tz) -> NaiveDateTime {
    start_of_day_in(date + Duration::days(1), tz) - Duration::microseconds(1)
}

fn start_of_day_in(date: NaiveDate, tz: Tz) -> NaiveDateTime {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    // A zone whose clocks skip midnight (a DST change at 00:00) starts the day at the first
    // local time that exists.
    (0..=3)
        .find_map(|h| {
            tz.from_local_datetime(&(midnight + Duration::hours(h)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc).naive_utc())
        .unwrap_or(midnight)
}

/// When a public notice of `days` days opened at `now` closes: at the end of the local day
/// `days` days later. Zero days: it closes at once.
pub fn notice_end(now: NaiveDateTime, days: i64) -> NaiveDateTime {
    notice_end_in(now, days, timezone())
}

pub fn notice_end_in(now: NaiveDateTime, days: i64, tz: Tz) -> NaiveDateTime {
    if days <= 0 {
        return now;
    }
    end_of_day_in(today_at(to_utc(now), tz) + Duration::days(days), tz)
}

pub fn to_utc(t: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn half_past_eleven_utc_is_already_tomorrow_in_qinghai() {
        let tz = DEFAULT_TIMEZONE;
        assert_eq!(
            today_at(utc("2026-12-31T15:59:59Z"), tz),
            date("2026-12-31")
        );
        assert_eq!(
            today_at(utc("2026-12-31T16:00:00Z"), tz),
            date("2027-01-01")
        );
        assert_eq!(
            today_at(utc("2026-11-27T23:30:00Z"), tz),
            date("2026-11-28")
        );
        assert_eq!(
            today_at(utc("2026-11-27T23:30:00Z"), chrono_tz::UTC),
            date("2026-11-27")
        );
    }

    #[test]
    fn a_local_day_ends_at_16_00_utc() {
        let end = end_of_day_in(date("2026-11-27"), DEFAULT_TIMEZONE);
        assert_eq!(
            to_utc(end).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "2026-11-27T15:59:59.999999Z"
        );
    }

    #[test]
    fn a_notice_closes_at_the_end_of_its_last_local_day() {
        let tz = DEFAULT_TIMEZONE;
        // Approved at 23:30 UTC on the 27th: the 28th in Qinghai, so 7 days run to the 5th.
        let opened = utc("2026-11-27T23:30:00Z").naive_utc();
        let closes = to_utc(notice_end_in(opened, 7, tz));
        assert_eq!(closes, utc("2026-12-05T15:59:59.999999Z"));
        assert_eq!(notice_end_in(opened, 0, tz), opened);
    }
}
