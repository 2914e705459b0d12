-- A third category of application: a change of what live records certify (`record_change`),
-- decided by the agencies of those records. SQLite cannot alter a CHECK: the table is rebuilt,
-- with foreign keys off (the applications that refer to it keep their kinds; deferring the
-- check is not enough, since dropping the old table counts every referring row as a violation).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE application_kinds_new (
    code                   TEXT PRIMARY KEY,
    category               TEXT NOT NULL CHECK (category IN ('certification', 'designation', 'change')),
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
INSERT INTO application_kinds_new SELECT * FROM application_kinds;
DROP TABLE application_kinds;
ALTER TABLE application_kinds_new RENAME TO application_kinds;
COMMIT;
PRAGMA foreign_keys = ON;
