-- Closed registrations become deregistered; a USCC held twice (a closed registration and the
-- live holder) cannot go back under the old UNIQUE, and the migration then fails unchanged.
DROP INDEX enterprises_pending;
DROP INDEX enterprises_uscc_live;
ALTER TABLE enterprises DROP CONSTRAINT enterprises_status_check;
UPDATE enterprises SET status = 'deregistered' WHERE status IN ('rejected', 'expired');
ALTER TABLE enterprises ADD CONSTRAINT enterprises_status_check
    CHECK (status IN ('pending', 'active', 'suspended', 'deregistered'));
ALTER TABLE enterprises ADD CONSTRAINT enterprises_uscc_key UNIQUE (uscc);
