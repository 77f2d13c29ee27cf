-- Reverts V7__metrics_snapshots.
DROP INDEX tickets_org_first_response_idx;
DROP INDEX tickets_org_solved_idx;
DROP TABLE metrics_snapshots;
