DROP TABLE renewals;
ALTER TABLE application_kinds DROP COLUMN renewal_window_days;
