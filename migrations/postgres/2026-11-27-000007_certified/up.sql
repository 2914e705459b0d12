-- What a record certifies, fixed when it is registered or granted (JSON): the holder's name and
-- USCC, the product's name, brand, GTIN, sector, category and origin, the scope or the GI.
-- Records registered before this migration take the data as it is now.
ALTER TABLE certifications ADD COLUMN certified TEXT NOT NULL DEFAULT '{}';
ALTER TABLE designations ADD COLUMN certified TEXT NOT NULL DEFAULT '{}';
UPDATE certifications c SET certified = json_build_object(
        'holder_name', e.name, 'holder_uscc', e.uscc, 'product_name', p.name, 'brand', p.brand,
        'gtin', p.gtin, 'sector', p.sector_code, 'category', p.category_code,
        'origin_region_code', p.origin_region_code, 'scope', c.scope)::text
    FROM products p JOIN enterprises e ON e.id = p.enterprise_id
    WHERE p.id = c.product_id;
UPDATE designations d SET certified = (
    SELECT json_build_object(
        'holder_name', e.name, 'holder_uscc', e.uscc, 'product_name', p.name, 'brand', p.brand,
        'gtin', p.gtin, 'sector', p.sector_code, 'category', p.category_code,
        'origin_region_code', p.origin_region_code,
        'geographical_indication_id', d.geographical_indication_id)::text
    FROM enterprises e LEFT JOIN products p ON p.id = d.product_id
    WHERE e.id = d.enterprise_id);
