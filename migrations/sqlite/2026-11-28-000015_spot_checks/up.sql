-- Spot-check campaigns (双随机、一公开). The seed is drawn at creation and only its SHA-256 is
-- shown until the draw; the draw freezes the candidates and picks targets and inspectors by a
-- rule anyone can recompute from the revealed seed.
CREATE TABLE spot_checks (
    id              TEXT PRIMARY KEY,
    agency_code     TEXT NOT NULL,
    title           TEXT NOT NULL,
    legal_basis     TEXT NOT NULL,
    target_type     TEXT NOT NULL CHECK (target_type IN ('enterprise', 'product')),
    scope           TEXT NOT NULL,
    sample_size     INTEGER NOT NULL CHECK (sample_size > 0),
    inspector_pool  TEXT NOT NULL,
    seed_commitment TEXT NOT NULL,
    seed            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('open', 'drawn', 'closed')),
    candidate_count INTEGER,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    drawn_at        TIMESTAMP,
    closed_at       TIMESTAMP,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX spot_checks_agency ON spot_checks (agency_code, id);

-- The candidates as frozen at the draw.
CREATE TABLE spot_check_candidates (
    spot_check_id TEXT NOT NULL REFERENCES spot_checks (id),
    candidate_id  TEXT NOT NULL,
    PRIMARY KEY (spot_check_id, candidate_id)
);

-- The drawn targets, their inspectors (and who was skipped, and why), and the result.
CREATE TABLE spot_check_targets (
    spot_check_id TEXT NOT NULL REFERENCES spot_checks (id),
    target_id     TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    score         TEXT NOT NULL,
    inspectors    TEXT NOT NULL,
    recusals      TEXT NOT NULL,
    result        TEXT CHECK (result IN ('passed', 'failed', 'not_found')),
    findings      TEXT,
    checked_on    DATE,
    recorded_by   TEXT,
    recorded_at   TIMESTAMP,
    PRIMARY KEY (spot_check_id, target_id)
);

-- An inspector's declared conflict of interest with an enterprise: never drawn to inspect it.
CREATE TABLE inspector_conflicts (
    inspector_id  TEXT NOT NULL REFERENCES users (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    reason        TEXT NOT NULL,
    declared_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (inspector_id, enterprise_id)
);
