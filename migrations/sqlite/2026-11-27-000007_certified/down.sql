ALTER TABLE designations DROP COLUMN certified;
ALTER TABLE certifications DROP COLUMN certified;
