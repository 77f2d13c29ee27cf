-- Reverts V3__job_events_brin.
DROP INDEX job_events_created_brin;
CREATE INDEX job_events_created_idx ON job_events (created_at);
