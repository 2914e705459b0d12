DROP INDEX designations_kind;
CREATE INDEX designations_kind ON designations (kind, status);
