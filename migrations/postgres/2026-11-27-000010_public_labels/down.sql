-- The staff accounts stay in the audit trail; the relabelling is not undone.
SELECT 1;
