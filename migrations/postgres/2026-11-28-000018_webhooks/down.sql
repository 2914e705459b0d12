ALTER TABLE designations DROP COLUMN expiry_published;
ALTER TABLE certifications DROP COLUMN expiry_published;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP INDEX api_clients_created_by;
ALTER TABLE api_clients DROP COLUMN quota_per_min;
ALTER TABLE api_clients DROP COLUMN purpose;
