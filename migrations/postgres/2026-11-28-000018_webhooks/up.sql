-- Self-service API clients: what an app is for, and a quota an admin may raise (NULL: the
-- default for keys). Keep in step with the other backend's migration.
ALTER TABLE api_clients ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
ALTER TABLE api_clients ADD COLUMN quota_per_min INTEGER;
CREATE INDEX api_clients_created_by ON api_clients (created_by, id);

-- Webhook subscriptions of an API client. `cursor` is the publication-log sequence handled last
-- (delivered, or not of interest): deliveries follow the log, one at a time, so none is skipped
-- and each subscription hears its events in order. The secret signs each delivery (HMAC), so it
-- is kept as is.
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES api_clients (id),
    url             TEXT NOT NULL,
    secret          TEXT NOT NULL,
    event_types     TEXT NOT NULL,
    enterprise_id   TEXT,
    product_id      TEXT,
    kind            TEXT,
    cursor          BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    paused_reason   TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,
    failing_since   TIMESTAMP,
    next_attempt_at TIMESTAMP NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_client ON webhooks (client_id, id);
CREATE INDEX webhooks_due ON webhooks (status, next_attempt_at);

-- Every attempt, kept for the owner to read.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    webhook_id  TEXT NOT NULL REFERENCES webhooks (id),
    seq         BIGINT NOT NULL,
    event_type  TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    status_code INTEGER,
    error       TEXT,
    succeeded   BOOLEAN NOT NULL,
    duration_ms INTEGER NOT NULL,
    at          TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- A record that reaches its end date is announced once in the publication log
-- (`certification.expire`, `designation.expire`); this marks the ones announced.
ALTER TABLE certifications ADD COLUMN expiry_published BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE designations ADD COLUMN expiry_published BOOLEAN NOT NULL DEFAULT FALSE;
-- Records that ended before this release are history, not news: only those ending from now on
-- are announced (CURRENT_DATE is the database's date, at most a day behind the registry's).
UPDATE certifications SET expiry_published = TRUE WHERE expires_on < CURRENT_DATE;
UPDATE designations SET expiry_published = TRUE WHERE valid_until < CURRENT_DATE;
