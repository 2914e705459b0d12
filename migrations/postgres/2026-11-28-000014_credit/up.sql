-- The dishonesty list (失信名单): market regulation lists an enterprise for a period, with its
-- reason and legal basis; a removal (信用修复) keeps the row with its own reason, so the list's
-- history stays public. A listing is in force from starts_on through ends_on (open-ended when
-- NULL) unless removed.
CREATE TABLE credit_listings (
    id             TEXT PRIMARY KEY,
    enterprise_id  TEXT NOT NULL REFERENCES enterprises (id),
    reason         TEXT NOT NULL,
    legal_basis    TEXT NOT NULL,
    starts_on      DATE NOT NULL,
    ends_on        DATE,
    agency_code    TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    removed_at     TIMESTAMP,
    removal_reason TEXT,
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX credit_listings_enterprise ON credit_listings (enterprise_id, id);
CREATE INDEX credit_listings_open ON credit_listings (id) WHERE removed_at IS NULL;
