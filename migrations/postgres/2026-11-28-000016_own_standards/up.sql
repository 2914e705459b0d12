-- Enterprise (Q/) and group (T/) standards, registered by those who publish them: an
-- enterprise's own standard names its owner (only its products may declare it), the text's
-- SHA-256 (the register keeps the fingerprint, not the text) and, for a group standard, the
-- association that issued it.
ALTER TABLE standards ADD COLUMN owner_enterprise_id TEXT REFERENCES enterprises (id);
ALTER TABLE standards ADD COLUMN text_sha256 TEXT;
ALTER TABLE standards ADD COLUMN issuer TEXT;
