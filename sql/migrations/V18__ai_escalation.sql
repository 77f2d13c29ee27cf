-- Sentiment-triggered escalation: the tone of each customer message as triage read
-- it, and the escalations the AI made from it.

-- One row a customer message (the requester's public comment; 0 for what they wrote
-- when filing): the run of negative messages an escalation rule counts.
CREATE TABLE ticket_message_sentiment (
    org_id      bigint NOT NULL,
    ticket_id   bigint NOT NULL,
    comment_id  bigint NOT NULL CHECK (comment_id >= 0),
    score       real NOT NULL CHECK (score BETWEEN -1 AND 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, ticket_id, comment_id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE
);

-- An escalation the AI made: a rule fires once per ticket until a person (an agent or
-- an admin) acts on the ticket after it.
CREATE TABLE ticket_escalations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL,
    ticket_id   bigint NOT NULL,
    rule        text NOT NULL,
    action      text NOT NULL CHECK (action IN ('raise_priority', 'move_to_group', 'notify')),
    -- The customer message that set it off, and the scores of the run it ended.
    comment_id  bigint NOT NULL,
    scores      real[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_escalations_ticket_idx ON ticket_escalations (org_id, ticket_id, rule, created_at DESC);
