-- Renewal. A kind says how many days before a record's end its renewal may be filed (NULL: it
-- is not renewed). A renewal is an application linked to the record it renews; its approval
-- registers a successor record, linked both ways through this table.
ALTER TABLE application_kinds ADD COLUMN renewal_window_days INTEGER;
CREATE TABLE renewals (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    record_type    TEXT NOT NULL CHECK (record_type IN ('certification', 'designation')),
    renews_id      TEXT NOT NULL,
    successor_id   TEXT,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX renewals_renews ON renewals (renews_id);
CREATE INDEX renewals_successor ON renewals (successor_id);
