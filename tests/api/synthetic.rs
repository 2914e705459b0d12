//! The synthetic register generator used by the benchmarks.

use crate::common::{backends, TestDb};
use diesel::prelude::*;
use registry::db::schema::{
    audit_log, certifications, designations, enterprises, products, record_status_changes,
};
use registry::domain::{RecordStatus, RecordType};

#[test]
fn generates_a_consistent_register_at_small_scale_on_every_backend() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let (pool, _) = registry::db::build_pool(&db.url, 2).unwrap();
        let mut conn = pool.get().unwrap();
        let lines = std::sync::Mutex::new(Vec::new());
        let report = registry::synthetic::generate(&mut conn, 0.001, &|l| {
            lines.lock().unwrap().push(l.to_owned())
        })
        .unwrap();
        assert_eq!(
            (
                report.enterprises,
                report.products,
                report.certifications,
                report.designations
            ),
            (100, 1000, 300, 50),
            "{backend:?}"
        );
        assert!(!lines.lock().unwrap().is_empty(), "progress is reported");
        let count = |n: i64| n as u64;
        assert_eq!(
            count(
                enterprises::table
                    .filter(enterprises::uscc.like("93%"))
                    .count()
                    .get_result(&mut conn)
                    .unwrap()
            ),
            100
        );
        assert_eq!(
            count(products::table.count().get_result(&mut conn).unwrap()),
            1000
        );
        assert_eq!(
            count(certifications::table.count().get_result(&mut conn).unwrap()),
            300
        );
        assert_eq!(
            count(designations::table.count().get_result(&mut conn).unwrap()),
            50
        );
        // Every record has a history that ends in its current status.
        let certs: Vec<(String, RecordStatus)> = certifications::table
            .select((certifications::id, certifications::status))
            .load(&mut conn)
            .unwrap();
        for (id, status) in &certs {
            let h = registry::records::history::history(&mut conn, RecordType::Certification, id)
                .unwrap();
            assert_eq!(h.last().map(|x| x.to_status), Some(*status));
        }
        let changes: i64 = record_status_changes::table
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(count(changes), report.status_changes);
        let audited: i64 = audit_log::table
            .filter(audit_log::actor_label.eq("system:synthetic"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(count(audited), report.audit_entries);
        for u in enterprises::table
            .select(enterprises::uscc)
            .limit(20)
            .load::<String>(&mut conn)
            .unwrap()
        {
            registry::domain::Uscc::parse(&u).unwrap();
        }
        assert!(registry::audit::verify_chain(&mut conn).unwrap().intact);
        // Certificates of non-food products or inactive enterprises would be inconsistent.
        let bad: i64 = certifications::table
            .inner_join(products::table)
            .filter(products::sector_code.ne("food"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(bad, 0);
        // The generated history has ended records (a tenth of certificates and designations);
        // their end is no news: nothing is owed to the change feed.
        let ended: i64 = certifications::table
            .filter(certifications::expires_on.lt(registry::clock::today()))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert!(ended > 0, "the generated register has expired certificates");
        assert_eq!(
            registry::records::expiry::announce_due(&mut conn, registry::clock::today(), 1000)
                .unwrap(),
            0
        );
        assert!(
            registry::synthetic::generate(&mut conn, 0.001, &|_| {}).is_err(),
            "a second run is refused"
        );
    }
}
