-- Bulk imports run as jobs: who started one (and, for a regulator, its agency, which may read it
-- too), how far it is, and its report (the bad rows, as JSON) once done. Keep in step with the
-- other backend's migration.
CREATE TABLE import_jobs (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('products', 'designations', 'certifications')),
    status          TEXT NOT NULL CHECK (status IN ('queued', 'validating', 'importing', 'done', 'failed')),
    created_by      TEXT REFERENCES users (id),
    agency_code     TEXT REFERENCES agencies (code),
    enterprise_id   TEXT REFERENCES enterprises (id),
    file_name       TEXT,
    total_rows      INTEGER NOT NULL,
    processed_rows  INTEGER NOT NULL DEFAULT 0,
    created_count   INTEGER NOT NULL DEFAULT 0,
    unchanged_count INTEGER NOT NULL DEFAULT 0,
    error_count     INTEGER NOT NULL DEFAULT 0,
    report          TEXT,
    failure         TEXT,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP
);
CREATE INDEX import_jobs_created_by ON import_jobs (created_by, id);
