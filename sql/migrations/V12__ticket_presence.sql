-- Who has a ticket open right now, and whether they are typing: a short-lived row the
-- open ticket view renews every few seconds and deletes when the tab closes. A row
-- whose lease ran out (a crashed tab, a lost network) simply stops counting.
CREATE TABLE ticket_presence (
    org_id     bigint NOT NULL,
    ticket_id  bigint NOT NULL,
    user_id    bigint NOT NULL,
    typing     boolean NOT NULL DEFAULT false,
    seen_at    timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, user_id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_presence_expiry_idx ON ticket_presence (expires_at);
