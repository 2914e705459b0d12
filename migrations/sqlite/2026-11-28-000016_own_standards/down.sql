ALTER TABLE standards DROP COLUMN issuer;
ALTER TABLE standards DROP COLUMN text_sha256;
ALTER TABLE standards DROP COLUMN owner_enterprise_id;
