-- The statement GET /api/v1/verify/{number} issues for one certificate number (certificates and
-- designations with that number, each with its holder and product, in one UNION ALL), for
-- pgbench's ceiling on the same database.
\set k random(0, 99999)
\set n :k * 3
SELECT 'certification', c.id, c.kind, c.product_id, c.certificate_number, c.issued_on, c.expires_on, c.status, c.certified, NULL::text, e.id, e.name, e.uscc, e.status, p.name, p.brand, p.gtin, p.sector_code, p.category_code, p.origin_region_code FROM certifications c INNER JOIN enterprises e ON c.enterprise_id = e.id INNER JOIN products p ON c.product_id = p.id WHERE c.certificate_number = 'SYN-GF-' || lpad(:n::text, 8, '0')
UNION ALL
SELECT 'designation', d.id, d.kind, d.product_id, d.number, d.valid_from, d.valid_until, d.status, d.certified, d.geographical_indication_id, e.id, e.name, e.uscc, e.status, p.name, p.brand, p.gtin, p.sector_code, p.category_code, p.origin_region_code FROM designations d INNER JOIN enterprises e ON d.enterprise_id = e.id LEFT OUTER JOIN products p ON d.product_id = p.id WHERE d.number = 'SYN-GF-' || lpad(:n::text, 8, '0');
