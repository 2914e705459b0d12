PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE enterprises_new (
    id                    TEXT PRIMARY KEY,
    uscc                  TEXT NOT NULL UNIQUE,
    uscc_override_reason  TEXT,
    name                  TEXT NOT NULL,
    legal_representative  TEXT NOT NULL,
    region_code           TEXT NOT NULL REFERENCES regions (code),
    address               TEXT NOT NULL,
    scale                 TEXT NOT NULL CHECK (scale IN ('large', 'medium', 'small', 'micro')),
    above_designated_size BOOLEAN NOT NULL DEFAULT 0,
    contact_phone         TEXT NOT NULL,
    contact_email         TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'deregistered')),
    verified_at           TIMESTAMP,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    version               INTEGER NOT NULL DEFAULT 1
);
-- Closed registrations become deregistered; a USCC held twice (a closed registration and the
-- live holder) cannot go back under the old UNIQUE, and the migration then fails unchanged.
INSERT INTO enterprises_new
SELECT id, uscc, uscc_override_reason, name, legal_representative, region_code, address, scale,
       above_designated_size, contact_phone, contact_email,
       CASE WHEN status IN ('rejected', 'expired') THEN 'deregistered' ELSE status END,
       verified_at, created_at, updated_at, version
FROM enterprises;
DROP TABLE enterprises;
ALTER TABLE enterprises_new RENAME TO enterprises;
CREATE INDEX enterprises_status ON enterprises (status, id);
CREATE INDEX enterprises_region ON enterprises (region_code, id);
COMMIT;
PRAGMA foreign_keys = ON;
