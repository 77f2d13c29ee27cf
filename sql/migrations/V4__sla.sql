-- SLAs: business-hours calendars, policies matched per ticket, the status periods
-- every clock is computed from, the per-ticket deadline copies the sweeper and the
-- lists read, and the breaches and warnings recorded exactly once.

CREATE TABLE sla_calendars (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    -- IANA name, validated by the application (chrono-tz) before it is stored.
    timezone    text NOT NULL,
    -- {"mon": [["09:00", "17:00"], …], …, "sun": []}: local wall-clock ranges.
    hours       jsonb NOT NULL,
    holidays    date[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE sla_policies (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id                 bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                   text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    -- Policies are tried in (position, id) order; the first whose conditions match wins.
    position               integer NOT NULL DEFAULT 0,
    -- Empty: any priority / any category.
    priorities             text[] NOT NULL DEFAULT '{}'
                           CHECK (priorities <@ ARRAY['low', 'normal', 'high', 'urgent']),
    categories             text[] NOT NULL DEFAULT '{}',
    -- NULL: targets are calendar minutes (around the clock).
    calendar_id            bigint,
    first_response_minutes integer CHECK (first_response_minutes > 0),
    next_response_minutes  integer CHECK (next_response_minutes > 0),
    resolution_minutes     integer CHECK (resolution_minutes > 0),
    pause_statuses         text[] NOT NULL DEFAULT ARRAY['pending', 'on_hold']
                           CHECK (pause_statuses <@ ARRAY['new', 'open', 'pending', 'on_hold']),
    -- A warning is recorded this many (wall-clock) minutes before a deadline.
    warn_before_minutes    integer NOT NULL DEFAULT 30 CHECK (warn_before_minutes BETWEEN 0 AND 10080),
    -- Escalation on breach: raise the priority to, reassign to, notify by a job.
    escalate_priority      text CHECK (escalate_priority IN ('low', 'normal', 'high', 'urgent')),
    escalate_assignee_id   bigint,
    escalate_notify        boolean NOT NULL DEFAULT false,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, calendar_id) REFERENCES sla_calendars (org_id, id),
    FOREIGN KEY (org_id, escalate_assignee_id) REFERENCES users (org_id, id)
);
CREATE INDEX sla_policies_org_idx ON sla_policies (org_id, position, id);

-- Every status a ticket was in, and when: the pauses of every clock are rebuilt from
-- these, so a changed policy (other pausing statuses) or calendar recomputes the past
-- correctly. Kept by a trigger, so no write path can forget it.
CREATE TABLE ticket_status_periods (
    org_id      bigint NOT NULL,
    ticket_id   bigint NOT NULL,
    status      text NOT NULL,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz CHECK (ended_at >= started_at),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_status_periods_ticket_idx ON ticket_status_periods (ticket_id, started_at);
CREATE UNIQUE INDEX ticket_status_periods_current_idx ON ticket_status_periods (ticket_id) WHERE ended_at IS NULL;

CREATE FUNCTION tickets_track_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ticket_status_periods (org_id, ticket_id, status, started_at)
        VALUES (NEW.org_id, NEW.id, NEW.status, NEW.created_at);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        UPDATE ticket_status_periods SET ended_at = greatest(now(), started_at)
        WHERE ticket_id = NEW.id AND ended_at IS NULL;
        INSERT INTO ticket_status_periods (org_id, ticket_id, status, started_at)
        VALUES (NEW.org_id, NEW.id, NEW.status, now());
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER tickets_track_status
    AFTER INSERT OR UPDATE OF status ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_track_status();

-- Existing tickets: their history before this migration is not known period by
-- period; a solved ticket is taken as open until it was solved.
INSERT INTO ticket_status_periods (org_id, ticket_id, status, started_at, ended_at)
SELECT org_id, id, 'open', created_at, greatest(solved_at, created_at)
FROM tickets WHERE status IN ('solved', 'closed');
INSERT INTO ticket_status_periods (org_id, ticket_id, status, started_at)
SELECT org_id, id, status, CASE WHEN status IN ('solved', 'closed') THEN greatest(solved_at, created_at) ELSE created_at END
FROM tickets;

ALTER TABLE tickets
    ADD COLUMN sla_policy_id                bigint,
    -- Deadlines of the clocks running now (NULL when met, paused, stopped or no target).
    ADD COLUMN sla_first_response_due_at    timestamptz,
    ADD COLUMN sla_next_response_due_at     timestamptz,
    ADD COLUMN sla_next_response_started_at timestamptz,
    ADD COLUMN sla_resolution_due_at        timestamptz,
    -- The earliest of them (lists: sort by deadline, at risk).
    ADD COLUMN sla_next_due_at              timestamptz,
    ADD COLUMN sla_warn_at                  timestamptz,
    -- Written by the SLA_PREDICT job.
    ADD COLUMN time_to_breach_minutes       integer,
    ADD COLUMN sla_risk_score               smallint CHECK (sla_risk_score BETWEEN 0 AND 100),
    ADD FOREIGN KEY (org_id, sla_policy_id) REFERENCES sla_policies (org_id, id) ON DELETE SET NULL (sla_policy_id);
CREATE INDEX tickets_org_sla_due_idx ON tickets (org_id, sla_next_due_at, id) WHERE sla_next_due_at IS NOT NULL;

-- When the sweeper must look at a ticket next (a warning or a deadline), for tickets
-- that have one. Kept off the wide, many-indexed tickets row: the sweeper moves these
-- times forward constantly, and a row this narrow costs one small index to update.
CREATE TABLE ticket_sla_schedule (
    ticket_id           bigint PRIMARY KEY,
    org_id              bigint NOT NULL,
    next_escalation_at  timestamptz NOT NULL,
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_sla_schedule_due_idx ON ticket_sla_schedule (next_escalation_at);

-- A clock's deadline passing (breach) or coming near (warning), recorded once per
-- clock cycle: the unique key makes a second sweeper's insert a no-op.
CREATE TABLE sla_breaches (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           bigint NOT NULL,
    ticket_id        bigint NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('warning', 'breach')),
    clock            text NOT NULL CHECK (clock IN ('first_response', 'next_response', 'resolution')),
    -- The clock's start; a next-response cycle is told apart by it.
    cycle_started_at timestamptz NOT NULL,
    due_at           timestamptz NOT NULL,
    policy_id        bigint,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (ticket_id, clock, cycle_started_at, kind),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE
);
CREATE INDEX sla_breaches_org_idx ON sla_breaches (org_id, kind, ticket_id);

-- In-app notifications (SLA escalations today).
CREATE TABLE notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL,
    user_id     bigint NOT NULL,
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{1,62}$'),
    ticket_id   bigint,
    body        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE
);
CREATE INDEX notifications_user_idx ON notifications (org_id, user_id, created_at DESC);
