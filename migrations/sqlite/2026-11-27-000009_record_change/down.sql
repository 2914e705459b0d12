PRAGMA foreign_keys = OFF;
BEGIN;
DELETE FROM applications WHERE kind = 'record_change';
DELETE FROM application_kinds WHERE category = 'change';
CREATE TABLE application_kinds_old (
    code                   TEXT PRIMARY KEY,
    category               TEXT NOT NULL CHECK (category IN ('certification', 'designation')),
    name_zh                TEXT NOT NULL,
    name_en                TEXT NOT NULL,
    validity_months        INTEGER,
    accepting_applications BOOLEAN NOT NULL,
    public_notice          BOOLEAN NOT NULL,
    notice_days            INTEGER NOT NULL DEFAULT 7,
    food_only              BOOLEAN NOT NULL DEFAULT 0,
    number_prefix          TEXT,
    note                   TEXT
);
INSERT INTO application_kinds_old SELECT * FROM application_kinds;
DROP TABLE application_kinds;
ALTER TABLE application_kinds_old RENAME TO application_kinds;
COMMIT;
PRAGMA foreign_keys = ON;
