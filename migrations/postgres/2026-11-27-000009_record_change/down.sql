DELETE FROM applications WHERE kind = 'record_change';
DELETE FROM application_kinds WHERE category = 'change';
ALTER TABLE application_kinds DROP CONSTRAINT application_kinds_category_check;
ALTER TABLE application_kinds ADD CONSTRAINT application_kinds_category_check
    CHECK (category IN ('certification', 'designation'));
