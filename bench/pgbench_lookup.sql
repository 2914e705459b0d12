-- The one lookup a verification client asks for: a certificate by its number, one statement.
-- The denominator the verify ratio is judged against.
\set k random(0, 99999)
\set n :k * 3
SELECT * FROM certifications WHERE certificate_number = 'SYN-GF-' || lpad(:n::text, 8, '0');
