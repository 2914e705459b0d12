-- Certifications, geographical indications, designations and the application-review workflow.
-- Keep in step with migrations/sqlite.

-- Which agency decides a kind stays in agency_responsibilities (one source of truth).
CREATE TABLE application_kinds (
    code                   TEXT PRIMARY KEY,
    category               TEXT NOT NULL CHECK (category IN ('certification', 'designation')),
    name_zh                TEXT NOT NULL,
    name_en                TEXT NOT NULL,
    validity_months        INTEGER,
    accepting_applications BOOLEAN NOT NULL,
    public_notice          BOOLEAN NOT NULL,
    notice_days            INTEGER NOT NULL DEFAULT 7,
    food_only              BOOLEAN NOT NULL DEFAULT FALSE,
    number_prefix          TEXT,
    note                   TEXT
);

CREATE TABLE certification_bodies (
    id              TEXT PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    name_zh         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    abbreviation    TEXT,
    approval_number TEXT,
    kinds           TEXT NOT NULL,
    website         TEXT,
    source          TEXT,
    confidence      TEXT
);

CREATE TABLE geographical_indications (
    id                     TEXT PRIMARY KEY,
    key                    TEXT NOT NULL UNIQUE,
    name_zh                TEXT NOT NULL,
    name_en                TEXT NOT NULL,
    system                 TEXT NOT NULL,
    product_category       TEXT NOT NULL,
    announcement           TEXT,
    defining_standard_code TEXT,
    source                 TEXT,
    confidence             TEXT
);

CREATE TABLE gi_protected_areas (
    gi_id       TEXT NOT NULL REFERENCES geographical_indications (id) ON DELETE CASCADE,
    region_code TEXT NOT NULL REFERENCES regions (code),
    PRIMARY KEY (gi_id, region_code)
);

CREATE TABLE applications (
    id                         TEXT PRIMARY KEY,
    kind                       TEXT NOT NULL REFERENCES application_kinds (code),
    enterprise_id              TEXT NOT NULL REFERENCES enterprises (id),
    product_id                 TEXT REFERENCES products (id),
    geographical_indication_id TEXT REFERENCES geographical_indications (id),
    details                    TEXT NOT NULL,
    documents                  TEXT NOT NULL,
    state                      TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'under_review', 'changes_requested',
                                   'approved', 'rejected', 'withdrawn', 'in_public_notice', 'granted')),
    agency_code                TEXT NOT NULL REFERENCES agencies (code),
    assigned_regulator_id      TEXT REFERENCES users (id),
    decision_reason            TEXT,
    notice_ends_at             TIMESTAMP,
    submitted_at               TIMESTAMP,
    decided_at                 TIMESTAMP,
    record_id                  TEXT,
    created_at                 TIMESTAMP NOT NULL,
    updated_at                 TIMESTAMP NOT NULL,
    version                    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX applications_enterprise ON applications (enterprise_id, id);
CREATE INDEX applications_state ON applications (state, id);
CREATE INDEX applications_agency ON applications (agency_code, id);

CREATE TABLE application_events (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    from_state     TEXT,
    to_state       TEXT NOT NULL,
    actor_id       TEXT,
    actor_label    TEXT NOT NULL,
    reason         TEXT,
    at             TIMESTAMP NOT NULL
);
CREATE INDEX application_events_application ON application_events (application_id, id);

CREATE TABLE objections (
    id                TEXT PRIMARY KEY,
    application_id    TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    contact           TEXT NOT NULL,
    text              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'dismissed')),
    resolution_reason TEXT,
    resolved_by       TEXT REFERENCES users (id),
    created_at        TIMESTAMP NOT NULL,
    resolved_at       TIMESTAMP
);
CREATE INDEX objections_application ON objections (application_id, id);

CREATE TABLE certifications (
    id                    TEXT PRIMARY KEY,
    application_id        TEXT REFERENCES applications (id),
    kind                  TEXT NOT NULL REFERENCES application_kinds (code),
    enterprise_id         TEXT NOT NULL REFERENCES enterprises (id),
    product_id            TEXT NOT NULL REFERENCES products (id),
    certificate_number    TEXT NOT NULL,
    certification_body_id TEXT REFERENCES certification_bodies (id),
    scope                 TEXT NOT NULL,
    issued_on             DATE NOT NULL,
    expires_on            DATE NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('valid', 'suspended', 'revoked')),
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    version               INTEGER NOT NULL DEFAULT 1,
    UNIQUE (kind, certificate_number),
    CHECK (expires_on > issued_on)
);
CREATE INDEX certifications_number ON certifications (certificate_number);
CREATE INDEX certifications_product ON certifications (product_id, id);
CREATE INDEX certifications_enterprise ON certifications (enterprise_id, id);

CREATE TABLE designations (
    id                         TEXT PRIMARY KEY,
    application_id             TEXT REFERENCES applications (id),
    kind                       TEXT NOT NULL REFERENCES application_kinds (code),
    enterprise_id              TEXT NOT NULL REFERENCES enterprises (id),
    product_id                 TEXT REFERENCES products (id),
    geographical_indication_id TEXT REFERENCES geographical_indications (id),
    number                     TEXT NOT NULL UNIQUE,
    granted_year               INTEGER NOT NULL,
    valid_from                 DATE NOT NULL,
    valid_until                DATE,
    status                     TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    created_at                 TIMESTAMP NOT NULL,
    updated_at                 TIMESTAMP NOT NULL,
    version                    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX designations_enterprise ON designations (enterprise_id, id);
CREATE INDEX designations_gi ON designations (geographical_indication_id, id);

-- Every status a certificate or designation has had, with when, who and why: answers
-- "was it valid on that date?".
CREATE TABLE record_status_changes (
    id          TEXT PRIMARY KEY,
    record_type TEXT NOT NULL CHECK (record_type IN ('certification', 'designation')),
    record_id   TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    reason      TEXT,
    actor_id    TEXT,
    actor_label TEXT NOT NULL,
    at          TIMESTAMP NOT NULL
);
CREATE INDEX record_status_changes_record ON record_status_changes (record_type, record_id, at);
