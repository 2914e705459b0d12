ALTER TABLE application_kinds DROP COLUMN confidence;
ALTER TABLE application_kinds DROP COLUMN notes;
ALTER TABLE geographical_indications RENAME COLUMN notes TO source;
ALTER TABLE certification_bodies RENAME COLUMN notes TO source;
ALTER TABLE standards RENAME COLUMN notes TO source;
