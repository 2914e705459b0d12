-- Developer accounts: an app developer signs up for API keys, and may do nothing else a
-- signed-in user may (no enterprise, no agency).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'regulator', 'enterprise', 'developer'));
