-- A pending registration can be rejected by market regulation, expire unverified, or be
-- superseded when market regulation registers the real holder of its USCC. Such a registration
-- stays (its history is evidence) but no longer holds the USCC: uniqueness covers live rows only.
-- SQLite cannot alter a CHECK or drop a UNIQUE: the table is rebuilt with foreign keys off, and
-- checked before commit.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE enterprises_new (
    id                    TEXT PRIMARY KEY,
    uscc                  TEXT NOT NULL,
    uscc_override_reason  TEXT,
    name                  TEXT NOT NULL,
    legal_representative  TEXT NOT NULL,
    region_code           TEXT NOT NULL REFERENCES regions (code),
    address               TEXT NOT NULL,
    scale                 TEXT NOT NULL CHECK (scale IN ('large', 'medium', 'small', 'micro')),
    above_designated_size BOOLEAN NOT NULL DEFAULT 0,
    contact_phone         TEXT NOT NULL,
    contact_email         TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'deregistered', 'rejected', 'expired')),
    verified_at           TIMESTAMP,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    version               INTEGER NOT NULL DEFAULT 1
);
INSERT INTO enterprises_new SELECT * FROM enterprises;
DROP TABLE enterprises;
ALTER TABLE enterprises_new RENAME TO enterprises;
CREATE INDEX enterprises_status ON enterprises (status, id);
CREATE INDEX enterprises_region ON enterprises (region_code, id);
CREATE UNIQUE INDEX enterprises_uscc_live ON enterprises (uscc) WHERE status NOT IN ('rejected', 'expired');
CREATE INDEX enterprises_pending ON enterprises (created_at) WHERE status = 'pending';
COMMIT;
PRAGMA foreign_keys = ON;
