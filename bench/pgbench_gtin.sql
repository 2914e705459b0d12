-- The one lookup a by-GTIN client asks for: a product by its GTIN, one statement. Synthetic
-- GTINs are 699 + a nine-digit counter + a check digit, so the range over the check digit
-- finds exactly the one product (an index range scan of one row, as costly as the point select).
\set n random(1, 999999)
SELECT * FROM products WHERE gtin >= '699' || lpad(:n::text, 9, '0') AND gtin < '699' || lpad((:n + 1)::text, 9, '0');
