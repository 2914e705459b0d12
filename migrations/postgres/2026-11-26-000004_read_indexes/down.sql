DROP INDEX certifications_kind;
DROP INDEX designations_kind;
DROP INDEX designations_product;
