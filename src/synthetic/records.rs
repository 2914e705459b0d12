//! Synthetic certificates and designations, each with its status history.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::Rng;

use super::{FoodProducts, Gen};
use crate::audit;
use crate::db::schema::{certifications, designations, record_status_changes};
use crate::db::{write_tx, DbConn};
use crate::domain::{ApplicationKind, RecordStatus, RecordType};
use crate::error::ApiResult;
use crate::records::certificates::CertRow;
use crate::records::designations::DesignationRow;
use crate::records::StatusChangeRow;

pub fn cert_number(kind: ApplicationKind, n: u64) -> String {
    let tag = match kind {
        ApplicationKind::GreenFood => "GF",
        ApplicationKind::Organic => "OG",
        _ => "HL",
    };
    format!("SYN-{tag}-{n:08}")
}

pub fn designation_number(n: u64) -> String {
    format!("SYN-D-{n:08}")
}

fn status_row(
    record_type: RecordType,
    id: &str,
    from: Option<RecordStatus>,
    to: RecordStatus,
    reason: Option<&str>,
    at: NaiveDateTime,
) -> StatusChangeRow {
    StatusChangeRow {
        id: uuid::Uuid::now_v7().to_string(),
        record_type,
        record_id: id.into(),
        from_status: from,
        to_status: to,
        reason: reason.map(str::to_owned),
        actor_id: None,
        actor_label: "system:synthetic".into(),
        at,
    }
}

/// A record's history: registered in force, then (for some) suspended or revoked; with the
/// matching audit actions.
struct History {
    rows: Vec<StatusChangeRow>,
    changes: Vec<(&'static str, &'static str, String)>,
}

impl History {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        record_type: RecordType,
        id: &str,
        live: RecordStatus,
        status: RecordStatus,
        at: NaiveDateTime,
        later: NaiveDateTime,
        reasons: (Option<&str>, &str),
    ) {
        let (entity, register, suspend, revoke) = match record_type {
            RecordType::Certification => (
                "certification",
                "certification.register",
                "certification.suspend",
                "certification.revoke",
            ),
            RecordType::Designation => (
                "designation",
                "designation.register",
                "designation.suspend",
                "designation.revoke",
            ),
        };
        self.rows
            .push(status_row(record_type, id, None, live, reasons.0, at));
        self.changes.push((register, entity, id.to_owned()));
        if status != live {
            self.rows.push(status_row(
                record_type,
                id,
                Some(live),
                status,
                Some(reasons.1),
                later,
            ));
            let action = if status == RecordStatus::Suspended {
                suspend
            } else {
                revoke
            };
            self.changes.push((action, entity, id.to_owned()));
        }
    }
}

/// Certifications of food products of active enterprises; issue dates over 2019-2026, so some
/// have expired; 4 % suspended, 2 % revoked.
pub(super) fn certifications(
    conn: &mut DbConn,
    g: &mut Gen<'_>,
    ent_ids: &[String],
    food: &FoodProducts,
    bodies: &[(String, String)],
    n_cert: u64,
) -> ApiResult<()> {
    use ApplicationKind::*;
    let body_for = |kind: ApplicationKind| {
        bodies
            .iter()
            .find(|(_, k)| k.contains(kind.as_str()))
            .map(|(id, _)| id.clone())
    };
    let mut i = 0;
    while i < n_cert {
        let end = (i + 1500).min(n_cert);
        let mut rows = Vec::new();
        let mut h = History {
            rows: Vec::new(),
            changes: Vec::new(),
        };
        for n in i..end {
            let (product, e) = &food.all[g.rng.random_range(0..food.all.len())];
            let kind = [GreenFood, Organic, Halal][(n % 3) as usize];
            let months = match kind {
                GreenFood => 36,
                Organic => 12,
                _ => 24,
            };
            let issued = NaiveDate::from_ymd_opt(2019, 1, 1).expect("date")
                + Duration::days(g.rng.random_range(0..2850));
            let expires = issued
                .checked_add_months(chrono::Months::new(months))
                .expect("date")
                - Duration::days(1);
            let status = match g.rng.random_range(0..100u32) {
                0..4 => RecordStatus::Suspended,
                4..6 => RecordStatus::Revoked,
                _ => RecordStatus::Valid,
            };
            let id = uuid::Uuid::now_v7().to_string();
            let registered = issued.and_hms_opt(9, 0, 0).expect("time");
            let later = registered + Duration::days(g.rng.random_range(1..200));
            h.push(
                RecordType::Certification,
                &id,
                RecordStatus::Valid,
                status,
                registered,
                later,
                (None, "合成数据：抽检不合格"),
            );
            rows.push(CertRow {
                // Filled in from the generated products at the end (`certified::backfill`).
                certified: "{}".into(),
                id,
                application_id: None,
                kind,
                enterprise_id: ent_ids[*e].clone(),
                product_id: product.clone(),
                certificate_number: cert_number(kind, n),
                certification_body_id: body_for(kind),
                scope: "合成数据认证范围".into(),
                issued_on: issued,
                expires_on: expires,
                status,
                created_at: registered,
                updated_at: registered,
                version: 1,
            });
        }
        let now = g.now;
        write_tx(conn, |conn| -> ApiResult<()> {
            crate::bulk_insert!(conn, certifications::table, &rows)?;
            crate::bulk_insert!(conn, record_status_changes::table, &h.rows)?;
            audit::record_many(conn, &g.ctx, &h.changes, now)?;
            Ok(())
        })?;
        g.report.certifications += rows.len() as u64;
        g.report.status_changes += h.rows.len() as u64;
        g.report.audit_entries += h.changes.len() as u64;
        g.report.rows += (rows.len() + h.rows.len() + h.changes.len()) as u64;
        i = end;
        g.tick("certifications", i, n_cert);
    }
    Ok(())
}

/// Designations: famous-brand titles (3 years) and, for Haixi food products, GI-mark use;
/// 2 % suspended, 3 % revoked.
pub(super) fn designations(
    conn: &mut DbConn,
    g: &mut Gen<'_>,
    ent_ids: &[String],
    food: &FoodProducts,
    gi_id: Option<String>,
    n_des: u64,
) -> ApiResult<()> {
    let mut i = 0;
    while i < n_des {
        let end = (i + 1500).min(n_des);
        let mut rows = Vec::new();
        let mut h = History {
            rows: Vec::new(),
            changes: Vec::new(),
        };
        for n in i..end {
            let gi = n % 3 == 0 && !food.haixi.is_empty() && gi_id.is_some();
            let (product, e) = if gi {
                &food.haixi[g.rng.random_range(0..food.haixi.len())]
            } else {
                &food.all[g.rng.random_range(0..food.all.len())]
            };
            let year = g.rng.random_range(2017..=2026);
            let from = NaiveDate::from_ymd_opt(year, g.rng.random_range(1..=12), 1).expect("date");
            let status = match g.rng.random_range(0..100u32) {
                0..3 => RecordStatus::Revoked,
                3..5 => RecordStatus::Suspended,
                _ => RecordStatus::Active,
            };
            let id = uuid::Uuid::now_v7().to_string();
            let granted = from.and_hms_opt(9, 0, 0).expect("time");
            let later = granted + Duration::days(g.rng.random_range(1..300));
            h.push(
                RecordType::Designation,
                &id,
                RecordStatus::Active,
                status,
                granted,
                later,
                (Some("granted"), "合成数据：质量事故"),
            );
            rows.push(DesignationRow {
                certified: "{}".into(),
                id,
                application_id: None,
                kind: if gi {
                    ApplicationKind::GiProduct
                } else {
                    ApplicationKind::ProvincialFamousBrand
                },
                enterprise_id: ent_ids[*e].clone(),
                product_id: Some(product.clone()),
                geographical_indication_id: if gi { gi_id.clone() } else { None },
                number: designation_number(n),
                granted_year: year,
                valid_from: from,
                valid_until: if gi {
                    None
                } else {
                    from.checked_add_months(chrono::Months::new(36))
                },
                status,
                created_at: granted,
                updated_at: granted,
                version: 1,
            });
        }
        let now = g.now;
        write_tx(conn, |conn| -> ApiResult<()> {
            crate::bulk_insert!(conn, designations::table, &rows)?;
            crate::bulk_insert!(conn, record_status_changes::table, &h.rows)?;
            audit::record_many(conn, &g.ctx, &h.changes, now)?;
            Ok(())
        })?;
        g.report.designations += rows.len() as u64;
        g.report.status_changes += h.rows.len() as u64;
        g.report.audit_entries += h.changes.len() as u64;
        g.report.rows += (rows.len() + h.rows.len() + h.changes.len()) as u64;
        i = end;
        g.tick("designations", i, n_des);
    }
    Ok(())
}
