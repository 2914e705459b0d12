-- Indexes for the public reads (product profiles, filters by what a product carries).
-- Keep in step with migrations/postgres.
CREATE INDEX designations_product ON designations (product_id, id);
CREATE INDEX designations_kind ON designations (kind, status);
CREATE INDEX certifications_kind ON certifications (kind, status, expires_on);
