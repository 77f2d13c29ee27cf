-- Schema v1: organisations, people, sessions and the ticket core.
--
-- Conventions (kept by every later migration):
-- * every domain row carries org_id; rows that point at another org-owned row use a
--   composite foreign key (org_id, x_id) so the database itself refuses a cross-tenant link;
-- * enumerations are text with a CHECK constraint (readable in psql, cheap to extend);
-- * times are timestamptz; the application writes updated_at explicitly.

CREATE TABLE organizations (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug               text NOT NULL UNIQUE
                       CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
    name               text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    -- Last ticket number handed out; incremented under the row lock so numbers are
    -- gap-free and unique per organisation.
    last_ticket_number integer NOT NULL DEFAULT 0 CHECK (last_ticket_number >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email             text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    display_name      text NOT NULL CHECK (length(btrim(display_name)) BETWEEN 1 AND 200),
    role              text NOT NULL CHECK (role IN ('admin', 'agent', 'customer')),
    -- PHC string of an argon2id hash; NULL for an invited user who has not set one.
    password_hash     text CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
    is_active         boolean NOT NULL DEFAULT true,
    email_verified_at timestamptz,
    last_login_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
-- Sign-in is by email alone, so an address identifies one account across the instance.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_org_role_idx ON users (org_id, role, display_name);

CREATE TABLE sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL,
    user_id      bigint NOT NULL,
    -- SHA-256 of the 256-bit bearer token; the token itself is never stored.
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    ip           inet,
    user_agent   text CHECK (length(user_agent) <= 512),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE,
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_live_idx ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE tickets (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id             bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    number             integer NOT NULL CHECK (number > 0),
    subject            text NOT NULL CHECK (length(btrim(subject)) BETWEEN 1 AND 300),
    description        text NOT NULL DEFAULT '' CHECK (length(description) <= 100000),
    status             text NOT NULL DEFAULT 'new'
                       CHECK (status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')),
    priority           text NOT NULL DEFAULT 'normal'
                       CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    category           text CHECK (category IS NULL OR length(btrim(category)) BETWEEN 1 AND 100),
    tags               text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
    requester_id       bigint NOT NULL,
    assignee_id        bigint,
    channel            text NOT NULL DEFAULT 'web'
                       CHECK (channel IN ('web', 'portal', 'email', 'api', 'phone', 'chat')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    first_responded_at timestamptz,
    solved_at          timestamptz,
    closed_at          timestamptz,
    -- Optimistic concurrency: every update bumps it; clients send it back in If-Match.
    version            integer NOT NULL DEFAULT 1 CHECK (version > 0),
    search             tsvector GENERATED ALWAYS AS (
                           setweight(to_tsvector('english', subject), 'A')
                           || setweight(to_tsvector('english', description), 'B')
                       ) STORED,
    UNIQUE (org_id, number),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, requester_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, assignee_id) REFERENCES users (org_id, id),
    CHECK (status NOT IN ('solved', 'closed') OR solved_at IS NOT NULL),
    CHECK (status <> 'closed' OR closed_at IS NOT NULL)
);
-- List queries: newest / recently updated first, keyset-paginated on (time, id).
CREATE INDEX tickets_org_created_idx ON tickets (org_id, created_at DESC, id DESC);
CREATE INDEX tickets_org_updated_idx ON tickets (org_id, updated_at DESC, id DESC);
CREATE INDEX tickets_org_status_idx ON tickets (org_id, status, created_at DESC, id DESC);
CREATE INDEX tickets_org_assignee_idx ON tickets (org_id, assignee_id, status) WHERE assignee_id IS NOT NULL;
CREATE INDEX tickets_org_requester_idx ON tickets (org_id, requester_id, created_at DESC);
CREATE INDEX tickets_org_category_idx ON tickets (org_id, category) WHERE category IS NOT NULL;
CREATE INDEX tickets_tags_idx ON tickets USING gin (tags);
CREATE INDEX tickets_search_idx ON tickets USING gin (search);

CREATE TABLE ticket_comments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL,
    ticket_id   bigint NOT NULL,
    author_id   bigint NOT NULL,
    -- 'public': a reply the requester sees; 'internal': a note only agents see.
    visibility  text NOT NULL CHECK (visibility IN ('public', 'internal')),
    body        text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 100000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, author_id) REFERENCES users (org_id, id)
);
CREATE INDEX ticket_comments_ticket_idx ON ticket_comments (org_id, ticket_id, created_at, id);

CREATE TABLE ticket_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL,
    ticket_id   bigint NOT NULL,
    -- NULL when the system acted (a worker, an SLA escalation, the seed).
    actor_id    bigint,
    event_type  text NOT NULL CHECK (event_type ~ '^[a-z][a-z_]{1,62}$'),
    before      jsonb,
    after       jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, actor_id) REFERENCES users (org_id, id)
);
CREATE INDEX ticket_events_ticket_idx ON ticket_events (org_id, ticket_id, created_at, id);

-- History is append-only: an UPDATE is refused by the database, not just by the code.
-- DELETE stays possible so an organisation (or a ticket) can be purged as a whole.
CREATE FUNCTION ticket_events_refuse_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket_events is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER ticket_events_append_only
    BEFORE UPDATE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION ticket_events_refuse_update();

CREATE TABLE org_settings (
    org_id      bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    key         text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  bigint,
    PRIMARY KEY (org_id, key),
    FOREIGN KEY (org_id, updated_by) REFERENCES users (org_id, id) ON DELETE SET NULL (updated_by)
);
