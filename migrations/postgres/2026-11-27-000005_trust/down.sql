DROP TABLE signing_keys;
DROP TABLE audit_checkpoints;
DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP TRIGGER audit_log_append_only ON audit_log;
DROP FUNCTION registry_append_only();
DROP INDEX certifications_body_number;
