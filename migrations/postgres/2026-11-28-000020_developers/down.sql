-- The older schema has no developer role: their accounts go (their apps stay, ownerless, so
-- their keys and webhooks keep working until an admin revokes them).
UPDATE api_clients SET created_by = NULL
    WHERE created_by IN (SELECT id FROM users WHERE role = 'developer');
DELETE FROM refresh_tokens WHERE user_id IN (SELECT id FROM users WHERE role = 'developer');
DELETE FROM users WHERE role = 'developer';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'regulator', 'enterprise'));
