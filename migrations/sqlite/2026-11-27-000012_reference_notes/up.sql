-- Provenance is operator metadata, not part of any public answer: `source` becomes `notes`,
-- cleared here and filled again with neutral notes (issuing body and announcement) by the next
-- reference load. Application kinds get the same two columns, apart from their public `note`.
ALTER TABLE standards RENAME COLUMN source TO notes;
ALTER TABLE certification_bodies RENAME COLUMN source TO notes;
ALTER TABLE geographical_indications RENAME COLUMN source TO notes;
UPDATE standards SET notes = NULL;
UPDATE certification_bodies SET notes = NULL;
UPDATE geographical_indications SET notes = NULL;
ALTER TABLE application_kinds ADD COLUMN notes TEXT;
ALTER TABLE application_kinds ADD COLUMN confidence TEXT;
