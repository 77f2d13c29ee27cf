-- Schema v8: agent workflow — ticket locks, relationships and merge, and the service
-- catalog's request forms.

-- An agent working on a ticket holds a lease on it; it lapses at expires_at unless the
-- client renews it. One row per ticket: the primary key is what makes two agents
-- racing for a lock end with exactly one holder.
CREATE TABLE ticket_locks (
    org_id      bigint NOT NULL,
    ticket_id   bigint NOT NULL PRIMARY KEY,
    user_id     bigint NOT NULL,
    -- The session that took it: signing out releases it.
    session_id  bigint REFERENCES sessions (id) ON DELETE SET NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_locks_session_idx ON ticket_locks (session_id) WHERE session_id IS NOT NULL;

-- Links between tickets of one organisation, stored one way round:
--   parent_of:    source is the parent of target
--   duplicate_of: source duplicates target (the original)
--   related_to:   symmetric, stored with source_id < target_id
--   blocks:       source blocks target
CREATE TABLE ticket_relationships (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('parent_of', 'duplicate_of', 'related_to', 'blocks')),
    source_id  bigint NOT NULL,
    target_id  bigint NOT NULL,
    created_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (source_id <> target_id),
    CHECK (kind <> 'related_to' OR source_id < target_id),
    UNIQUE (kind, source_id, target_id),
    FOREIGN KEY (org_id, source_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, target_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id) ON DELETE SET NULL (created_by)
);
-- A child has one parent; a duplicate has one original.
CREATE UNIQUE INDEX ticket_relationships_one_parent ON ticket_relationships (target_id) WHERE kind = 'parent_of';
CREATE UNIQUE INDEX ticket_relationships_one_original ON ticket_relationships (source_id) WHERE kind = 'duplicate_of';
CREATE INDEX ticket_relationships_target_idx ON ticket_relationships (target_id, kind);

-- A merged duplicate points at the ticket it was merged into.
ALTER TABLE tickets ADD COLUMN merged_into_id bigint,
    ADD FOREIGN KEY (org_id, merged_into_id) REFERENCES tickets (org_id, id);

-- Customers who may see a ticket besides its requester (the requesters of tickets
-- merged into it).
CREATE TABLE ticket_requesters (
    org_id    bigint NOT NULL,
    ticket_id bigint NOT NULL,
    user_id   bigint NOT NULL,
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, user_id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_requesters_user_idx ON ticket_requesters (org_id, user_id);

-- Request types customers can pick from, each with a versioned form.
CREATE TABLE service_catalog_items (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    category        text CHECK (category IS NULL OR length(btrim(category)) BETWEEN 1 AND 100),
    priority        text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    group_id        bigint,
    published       boolean NOT NULL DEFAULT false,
    current_version integer NOT NULL DEFAULT 1 CHECK (current_version > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    UNIQUE (org_id, name),
    FOREIGN KEY (org_id, group_id) REFERENCES agent_groups (org_id, id) ON DELETE SET NULL (group_id)
);

-- Every version of every form is kept: a ticket shows the form it was filed with.
CREATE TABLE service_catalog_forms (
    org_id     bigint NOT NULL,
    item_id    bigint NOT NULL,
    version    integer NOT NULL CHECK (version > 0),
    fields     jsonb NOT NULL CHECK (jsonb_typeof(fields) = 'array'),
    created_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, version),
    FOREIGN KEY (org_id, item_id) REFERENCES service_catalog_items (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id) ON DELETE SET NULL (created_by)
);

-- The answers a request ticket was filed with, against the form version it used.
CREATE TABLE ticket_catalog_requests (
    org_id       bigint NOT NULL,
    ticket_id    bigint NOT NULL PRIMARY KEY,
    item_id      bigint NOT NULL,
    form_version integer NOT NULL,
    answers      jsonb NOT NULL CHECK (jsonb_typeof(answers) = 'object'),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (item_id, form_version) REFERENCES service_catalog_forms (item_id, version)
);
