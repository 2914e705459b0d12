DROP TABLE inspector_conflicts;
DROP TABLE spot_check_targets;
DROP TABLE spot_check_candidates;
DROP TABLE spot_checks;
