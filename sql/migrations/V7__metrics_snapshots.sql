-- Schema v7: dashboard snapshots written by atum-metrics-worker.
--
-- One row per organisation per interval ('raw', every ATUM_METRICS_INTERVAL_SECS),
-- rolled up into 'hour' and 'day' rows for long ranges; old rows of each resolution
-- are pruned on their own retention. The figures are a JSON document (see
-- core/src/dashboard/mod.rs, `Figures`) so adding one does not need a migration.

CREATE TABLE metrics_snapshots (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    resolution   text NOT NULL CHECK (resolution IN ('raw', 'hour', 'day')),
    -- The interval the flow figures (created, solved, response times) cover; the
    -- state figures (open, backlog, SLA, load) are as of period_end.
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    figures      jsonb NOT NULL,
    took_ms      integer NOT NULL DEFAULT 0 CHECK (took_ms >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end > period_start),
    UNIQUE (org_id, resolution, period_end)
);
CREATE INDEX metrics_snapshots_prune_idx ON metrics_snapshots (resolution, period_end);

-- The flow figures read tickets by when they were solved and first answered.
CREATE INDEX tickets_org_solved_idx ON tickets (org_id, solved_at) WHERE solved_at IS NOT NULL;
CREATE INDEX tickets_org_first_response_idx ON tickets (org_id, first_responded_at)
    WHERE first_responded_at IS NOT NULL;
