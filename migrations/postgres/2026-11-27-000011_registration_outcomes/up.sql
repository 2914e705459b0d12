-- A pending registration can be rejected by market regulation, expire unverified, or be
-- superseded when market regulation registers the real holder of its USCC. Such a registration
-- stays (its history is evidence) but no longer holds the USCC: uniqueness covers live rows only.
ALTER TABLE enterprises DROP CONSTRAINT enterprises_status_check;
ALTER TABLE enterprises ADD CONSTRAINT enterprises_status_check
    CHECK (status IN ('pending', 'active', 'suspended', 'deregistered', 'rejected', 'expired'));
ALTER TABLE enterprises DROP CONSTRAINT enterprises_uscc_key;
CREATE UNIQUE INDEX enterprises_uscc_live ON enterprises (uscc) WHERE status NOT IN ('rejected', 'expired');
CREATE INDEX enterprises_pending ON enterprises (created_at) WHERE status = 'pending';
