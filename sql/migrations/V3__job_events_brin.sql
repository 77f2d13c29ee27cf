-- job_events is append-only and written in time order, so a BRIN index serves the
-- retention prune (created_at < cutoff) at a fraction of a B-tree's upkeep: the
-- B-tree took an index insertion on every event of every attempt, the hottest write
-- path of the queue.
DROP INDEX job_events_created_idx;
CREATE INDEX job_events_created_brin ON job_events USING brin (created_at);
