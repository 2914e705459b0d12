-- Developer accounts: an app developer signs up for API keys, and may do nothing else a
-- signed-in user may (no enterprise, no agency).
-- The rebuild SQLite's documentation gives for a changed table (https://sqlite.org/lang_altertable.html,
-- "making other kinds of table schema changes"): foreign keys off, a new table, copy, drop, rename,
-- commit. Other tables keep referring to `users` by name, so they refer to the new one.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_new (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'regulator', 'enterprise', 'developer')),
    agency_code   TEXT REFERENCES agencies (code),
    enterprise_id TEXT REFERENCES enterprises (id),
    disabled      BOOLEAN NOT NULL DEFAULT 0,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    CHECK ((role = 'regulator') = (agency_code IS NOT NULL)),
    CHECK ((role = 'enterprise') = (enterprise_id IS NOT NULL))
);
INSERT INTO users_new (id, username, password_hash, role, agency_code, enterprise_id, disabled,
                       created_at, updated_at, version)
    SELECT id, username, password_hash, role, agency_code, enterprise_id, disabled,
           created_at, updated_at, version
    FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_enterprise ON users (enterprise_id);
COMMIT;
PRAGMA foreign_keys = ON;
