-- Record numbers are stored in canonical form (upper case), and a body numbers its certificates
-- once: a number it already issued cannot be registered again.
UPDATE certifications SET certificate_number = upper(certificate_number);
CREATE UNIQUE INDEX certifications_body_number ON certifications (certification_body_id, certificate_number);

-- The audit trail is append-only in the database itself: no UPDATE, DELETE or TRUNCATE.
CREATE FUNCTION registry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION registry_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION registry_append_only();

-- Signed checkpoints of the chain: (sequence, entry hash, time) signed with a key kept outside
-- the database, published so that outsiders can keep copies.
CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,
    entry_hash TEXT NOT NULL,
    signed_at  TIMESTAMP NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL
);
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION registry_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION registry_append_only();

-- The public halves of every key the registry has signed with, so old signatures stay checkable
-- after a rotation.
CREATE TABLE signing_keys (
    key_id     TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    first_used TIMESTAMP NOT NULL
);
