-- Agent groups: teams of agents a ticket can be routed to. SLA policies escalate a
-- breached ticket to one (its queue), catalog items will default to one.

CREATE TABLE agent_groups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE agent_group_members (
    org_id      bigint NOT NULL,
    group_id    bigint NOT NULL,
    user_id     bigint NOT NULL,
    PRIMARY KEY (group_id, user_id),
    FOREIGN KEY (org_id, group_id) REFERENCES agent_groups (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_group_members_user_idx ON agent_group_members (org_id, user_id);

ALTER TABLE tickets
    ADD COLUMN group_id bigint,
    ADD FOREIGN KEY (org_id, group_id) REFERENCES agent_groups (org_id, id) ON DELETE SET NULL (group_id);
CREATE INDEX tickets_org_group_idx ON tickets (org_id, group_id, status) WHERE group_id IS NOT NULL;

ALTER TABLE sla_policies
    ADD COLUMN escalate_group_id bigint,
    ADD FOREIGN KEY (org_id, escalate_group_id) REFERENCES agent_groups (org_id, id) ON DELETE SET NULL (escalate_group_id);
