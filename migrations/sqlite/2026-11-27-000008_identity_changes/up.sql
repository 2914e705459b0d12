-- An enterprise's identity (name, USCC, legal representative, region) changes only when market
-- regulation approves: what the enterprise asks for waits here, with the decision and its reason.
CREATE TABLE enterprise_identity_changes (
    id                   TEXT PRIMARY KEY,
    enterprise_id        TEXT NOT NULL REFERENCES enterprises (id),
    name                 TEXT,
    uscc                 TEXT,
    legal_representative TEXT,
    region_code          TEXT,
    state                TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    requested_by         TEXT,
    decided_by           TEXT,
    reason               TEXT,
    created_at           TIMESTAMP NOT NULL,
    decided_at           TIMESTAMP,
    version              INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX enterprise_identity_changes_enterprise ON enterprise_identity_changes (enterprise_id, id);
