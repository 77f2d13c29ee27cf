-- The job queue: every background task of ATUM Desk (triage, replies, SLA prediction,
-- email) is a row here, claimed with FOR UPDATE SKIP LOCKED and held under a lease.
--
-- States: available (waiting; run_at may lie in the future for scheduled jobs and
-- retries), running (claimed; lease_expires_at is extended by heartbeats), and the
-- final succeeded, discarded (out of attempts or unrunnable, error history kept) and
-- cancelled.

CREATE TABLE job_queue (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                text NOT NULL CHECK (kind ~ '^[A-Z][A-Z0-9_]{0,62}$'),
    queue               text NOT NULL DEFAULT 'default' CHECK (queue ~ '^[a-z][a-z0-9_]{0,62}$'),
    -- The organisation a job works for; NULL for instance-wide housekeeping.
    org_id              bigint REFERENCES organizations (id) ON DELETE CASCADE,
    payload             jsonb NOT NULL DEFAULT '{}',
    state               text NOT NULL DEFAULT 'available'
                        CHECK (state IN ('available', 'running', 'succeeded', 'discarded', 'cancelled')),
    -- Lower runs first (0 most urgent).
    priority            smallint NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),
    run_at              timestamptz NOT NULL DEFAULT now(),
    attempt             integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts        integer NOT NULL DEFAULT 10 CHECK (max_attempts BETWEEN 1 AND 1000),
    -- While a job with this key is available or running, enqueueing another is a no-op.
    unique_key          text CHECK (length(unique_key) <= 200),
    -- [{"attempt": n, "at": time, "error": text}, …], oldest first.
    errors              jsonb NOT NULL DEFAULT '[]',
    locked_by           text,
    lease_expires_at    timestamptz,
    cancel_requested_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    CHECK (state <> 'running' OR (locked_by IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CHECK (state NOT IN ('succeeded', 'discarded', 'cancelled') OR finished_at IS NOT NULL)
) WITH (
    -- Room for updates on the same page, and vacuum far more eagerly than the default
    -- 20% of the table: a queue turns over its rows constantly, and dead entries at
    -- the head of the fetch index are what make queues slow down.
    fillfactor = 80,
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0,
    autovacuum_analyze_scale_factor = 0.05
);

-- Claiming: the next available jobs of a queue, most urgent first.
CREATE INDEX job_queue_fetch_idx ON job_queue (queue, priority, run_at, id) WHERE state = 'available';
-- The rescuer: running jobs by lease.
CREATE INDEX job_queue_lease_idx ON job_queue (lease_expires_at) WHERE state = 'running';
-- Pruning finished jobs.
CREATE INDEX job_queue_finished_idx ON job_queue (finished_at) WHERE state IN ('succeeded', 'discarded', 'cancelled');
-- Deduplication while pending or running.
CREATE UNIQUE INDEX job_queue_unique_idx ON job_queue (kind, unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('available', 'running');
CREATE INDEX job_queue_org_idx ON job_queue (org_id, created_at DESC) WHERE org_id IS NOT NULL;

CREATE TABLE job_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key: events outlive pruned jobs until their own retention ends.
    job_id      bigint NOT NULL,
    kind        text NOT NULL,
    event       text NOT NULL CHECK (event IN ('enqueued', 'started', 'succeeded', 'failed', 'retry_scheduled',
                                               'discarded', 'rescued', 'cancelled', 'released', 'retried')),
    worker_id   text,
    attempt     integer,
    duration_ms integer,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_events_job_idx ON job_events (job_id, id);
CREATE INDEX job_events_created_idx ON job_events (created_at);
