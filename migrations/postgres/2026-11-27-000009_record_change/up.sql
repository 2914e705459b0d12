-- A third category of application: a change of what live records certify (`record_change`),
-- decided by the agencies of those records.
ALTER TABLE application_kinds DROP CONSTRAINT application_kinds_category_check;
ALTER TABLE application_kinds ADD CONSTRAINT application_kinds_category_check
    CHECK (category IN ('certification', 'designation', 'change'));
