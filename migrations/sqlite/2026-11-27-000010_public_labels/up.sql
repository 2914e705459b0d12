-- Histories shown to the public name the agency that acted, never a staff account (the audit
-- trail keeps the account). Entries written before this change are relabelled.
UPDATE record_status_changes
SET actor_label = 'agency:' || (SELECT u.agency_code FROM users u WHERE u.id = record_status_changes.actor_id)
WHERE actor_label LIKE 'regulator:%'
  AND EXISTS (SELECT 1 FROM users u WHERE u.id = record_status_changes.actor_id AND u.agency_code IS NOT NULL);
UPDATE application_events
SET actor_label = 'agency:' || (SELECT u.agency_code FROM users u WHERE u.id = application_events.actor_id)
WHERE actor_label LIKE 'regulator:%'
  AND EXISTS (SELECT 1 FROM users u WHERE u.id = application_events.actor_id AND u.agency_code IS NOT NULL);
UPDATE application_events SET actor_label = 'enterprise' WHERE actor_label LIKE 'enterprise:%';
UPDATE application_events SET actor_label = 'admin' WHERE actor_label LIKE 'admin:%';
