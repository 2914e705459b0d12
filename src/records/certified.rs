//! What a record certifies, fixed when it is registered or granted: the holder and the product as
//! they were then. Answers show these; when the live data now differs they say which fields do,
//! so nobody is vouched for what was never reviewed.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{enterprises, products};
use crate::db::DbConn;

/// The certified facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Certified {
    #[schema(example = "柴达木红果枸杞科技有限公司")]
    pub holder_name: String,
    #[schema(example = "91632800MA752K3R1C")]
    pub holder_uscc: String,
    #[schema(example = "柴达木枸杞原浆")]
    pub product_name: Option<String>,
    pub brand: Option<String>,
    pub gtin: Option<String>,
    #[schema(example = "food")]
    pub sector: Option<String>,
    #[schema(example = "goji")]
    pub category: Option<String>,
    #[schema(example = "632800")]
    pub origin_region_code: Option<String>,
    /// Certificates: what the certificate covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Designations of a geographical indication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geographical_indication_id: Option<String>,
}

/// The product fields a live record certifies: changed only through a `record_change`
/// application while such a record is live.
pub const PRODUCT_FIELDS: &[&str] = &[
    "product_name",
    "brand",
    "gtin",
    "sector",
    "category",
    "origin_region_code",
];

impl Certified {
    pub fn parse(json: &str) -> Self {
        serde_json::from_str(json).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain strings serialise")
    }

    /// The fields in which `now` differs from what was certified, in a fixed order.
    pub fn differences(&self, now: &Certified) -> Vec<String> {
        let pairs: [(&str, Option<&str>, Option<&str>); 8] = [
            (
                "holder_name",
                Some(&self.holder_name),
                Some(&now.holder_name),
            ),
            (
                "holder_uscc",
                Some(&self.holder_uscc),
                Some(&now.holder_uscc),
            ),
            (
                "product_name",
                self.product_name.as_deref(),
                now.product_name.as_deref(),
            ),
            ("brand", self.brand.as_deref(), now.brand.as_deref()),
            ("gtin", self.gtin.as_deref(), now.gtin.as_deref()),
            ("sector", self.sector.as_deref(), now.sector.as_deref()),
            (
                "category",
                self.category.as_deref(),
                now.category.as_deref(),
            ),
            (
                "origin_region_code",
                self.origin_region_code.as_deref(),
                now.origin_region_code.as_deref(),
            ),
        ];
        pairs
            .into_iter()
            .filter(|(_, then, now)| then != now)
            .map(|(f, _, _)| f.to_owned())
            .collect()
    }
}

type ProductFacts = (String, String, Option<String>, String, String, String);

/// The live holder and product data for a set of records, to certify or to compare with.
pub struct Current {
    enterprises: HashMap<String, (String, String)>,
    products: HashMap<String, ProductFacts>,
}

impl Current {
    pub fn load(
        conn: &mut DbConn,
        enterprise_ids: &[String],
        product_ids: &[String],
    ) -> QueryResult<Self> {
        let ents: Vec<(String, String, String)> = enterprises::table
            .filter(enterprises::id.eq_any(enterprise_ids))
            .select((enterprises::id, enterprises::name, enterprises::uscc))
            .load(conn)?;
        let prods: Vec<(String, ProductFacts)> = products::table
            .filter(products::id.eq_any(product_ids))
            .select((
                products::id,
                (
                    products::name,
                    products::brand,
                    products::gtin,
                    products::sector_code,
                    products::category_code,
                    products::origin_region_code,
                ),
            ))
            .load(conn)?;
        Ok(Self {
            enterprises: ents.into_iter().map(|(id, n, u)| (id, (n, u))).collect(),
            products: prods.into_iter().collect(),
        })
    }

    /// The facts as they are now (scope and GI are the record's own and never drift).
    pub fn facts(&self, enterprise_id: &str, product_id: Option<&str>) -> Certified {
        let (holder_name, holder_uscc) = self
            .enterprises
            .get(enterprise_id)
            .cloned()
            .unwrap_or_default();
        let p = product_id.and_then(|id| self.products.get(id));
        Certified {
            holder_name,
            holder_uscc,
            product_name: p.map(|p| p.0.clone()),
            brand: p.map(|p| p.1.clone()),
            gtin: p.and_then(|p| p.2.clone()),
            sector: p.map(|p| p.3.clone()),
            category: p.map(|p| p.4.clone()),
            origin_region_code: p.map(|p| p.5.clone()),
            scope: None,
            geographical_indication_id: None,
        }
    }

    pub fn holder_name(&self, enterprise_id: &str) -> String {
        self.enterprises
            .get(enterprise_id)
            .map(|e| e.0.clone())
            .unwrap_or_default()
    }
}

/// The facts a record registered now certifies.
pub fn snapshot(
    conn: &mut DbConn,
    enterprise_id: &str,
    product_id: Option<&str>,
) -> QueryResult<Certified> {
    let products: Vec<String> = product_id.map(str::to_owned).into_iter().collect();
    let current = Current::load(conn, &[enterprise_id.to_owned()], &products)?;
    Ok(current.facts(enterprise_id, product_id))
}

/// Fills in the facts of records loaded in bulk (the synthetic generator) from the data as it
/// is now: the same statements as the migration that introduced them, per backend.
pub fn backfill(conn: &mut DbConn) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConn::Sqlite(c) => c.batch_execute(
            "UPDATE certifications SET certified = (SELECT json_object( \
               'holder_name', e.name, 'holder_uscc', e.uscc, 'product_name', p.name, \
               'brand', p.brand, 'gtin', p.gtin, 'sector', p.sector_code, \
               'category', p.category_code, 'origin_region_code', p.origin_region_code, \
               'scope', certifications.scope) \
             FROM products p JOIN enterprises e ON e.id = p.enterprise_id \
             WHERE p.id = certifications.product_id) WHERE certified = '{}'; \
             UPDATE designations SET certified = (SELECT json_object( \
               'holder_name', e.name, 'holder_uscc', e.uscc, 'product_name', p.name, \
               'brand', p.brand, 'gtin', p.gtin, 'sector', p.sector_code, \
               'category', p.category_code, 'origin_region_code', p.origin_region_code, \
               'geographical_indication_id', designations.geographical_indication_id) \
             FROM enterprises e LEFT JOIN products p ON p.id = designations.product_id \
             WHERE e.id = designations.enterprise_id) WHERE certified = '{}';",
        ),
        DbConn::Pg(c) => c.batch_execute(
            "UPDATE certifications c SET certified = json_build_object( \
               'holder_name', e.name, 'holder_uscc', e.uscc, 'product_name', p.name, \
               'brand', p.brand, 'gtin', p.gtin, 'sector', p.sector_code, \
               'category', p.category_code, 'origin_region_code', p.origin_region_code, \
               'scope', c.scope)::text \
             FROM products p JOIN enterprises e ON e.id = p.enterprise_id \
             WHERE p.id = c.product_id AND c.certified = '{}'; \
             UPDATE designations d SET certified = (SELECT json_build_object( \
               'holder_name', e.name, 'holder_uscc', e.uscc, 'product_name', p.name, \
               'brand', p.brand, 'gtin', p.gtin, 'sector', p.sector_code, \
               'category', p.category_code, 'origin_region_code', p.origin_region_code, \
               'geographical_indication_id', d.geographical_indication_id)::text \
             FROM enterprises e LEFT JOIN products p ON p.id = d.product_id \
             WHERE e.id = d.enterprise_id) WHERE d.certified = '{}';",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_each_drifted_field() {
        let then = Certified {
            holder_name: "甲".into(),
            holder_uscc: "U".into(),
            product_name: Some("枸杞".into()),
            category: Some("goji".into()),
            origin_region_code: Some("632800".into()),
            scope: Some("全部".into()),
            ..Default::default()
        };
        assert!(then.differences(&then).is_empty());
        let mut now = then.clone();
        now.holder_name = "乙".into();
        now.category = Some("salt".into());
        now.origin_region_code = Some("630100".into());
        now.scope = None;
        assert_eq!(
            then.differences(&now),
            ["holder_name", "category", "origin_region_code"]
        );
        assert_eq!(Certified::parse(&then.to_json()), then);
    }
}
