-- What the AI finds and drafts for a ticket: the articles that best match it, and a
-- draft reply quoted from the knowledge base and solved tickets, with what the agent
-- did with the draft; and what customers do with the articles suggested to them as
-- they write a request (deflection).

-- The articles that best match a ticket: one row a ticket, replaced when its inputs
-- (the question, the index) change.
CREATE TABLE ticket_kb_suggestions (
    org_id      bigint NOT NULL,
    ticket_id   bigint NOT NULL,
    inputs      text NOT NULL,
    -- [{article_id, chunk_id, title, snippet, visibility, score, retrievers}], best first.
    articles    jsonb NOT NULL CHECK (jsonb_typeof(articles) = 'array'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, ticket_id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE
);

-- Draft replies. A ticket's newest is the one shown; a new customer message makes a
-- new one and the pending one before it is 'superseded'. Kept, not replaced: the
-- acceptance rate and how far agents edit drafts are measured over them.
CREATE TABLE ai_suggestions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL,
    ticket_id     bigint NOT NULL,
    kind          text NOT NULL DEFAULT 'reply' CHECK (kind IN ('reply')),
    -- A hash of the question, the index and the embedder: the same inputs make no new draft.
    inputs        text NOT NULL,
    -- The draft as inserted into the reply box ('' when nothing answered closely enough).
    body          text NOT NULL,
    -- [{start, end, source, source_id, chunk_id, title, quote_start, quote_end, content_hash}]:
    -- each quoted span of `body` and where it comes from (offsets into the passage's
    -- text, whose SHA-256 is content_hash).
    citations     jsonb NOT NULL CHECK (jsonb_typeof(citations) = 'array'),
    -- How closely the quotes answer the question (their mean cosine similarity).
    confidence    real NOT NULL CHECK (confidence BETWEEN -1 AND 1),
    language      text,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'inserted', 'rejected', 'sent', 'superseded', 'empty')),
    decided_by    bigint,
    decided_at    timestamptz,
    -- The agent's reply that followed an inserted draft, and the edit distance between
    -- them (Levenshtein over characters, divided by the longer length: 0 = sent as drafted).
    sent_comment_id bigint,
    sent_at       timestamptz,
    sent_distance real CHECK (sent_distance IS NULL OR sent_distance BETWEEN 0 AND 1),
    duration_ms   integer NOT NULL CHECK (duration_ms >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, decided_by) REFERENCES users (org_id, id)
);
CREATE INDEX ai_suggestions_ticket_idx ON ai_suggestions (org_id, ticket_id, id DESC);
CREATE INDEX ai_suggestions_decided_idx ON ai_suggestions (org_id, created_at) WHERE status <> 'superseded';

-- What a customer did with the articles suggested as they wrote a new request, one
-- visit of the request form a session (a random id the portal makes). A session with
-- suggestions shown that ends 'abandoned' without 'submitted' is a deflected request.
CREATE TABLE kb_deflection_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    session     text NOT NULL CHECK (session ~ '^[A-Za-z0-9_-]{16,64}$'),
    event       text NOT NULL CHECK (event IN ('shown', 'opened', 'helpful', 'abandoned', 'submitted')),
    -- The article opened or found helpful.
    article_id  bigint CHECK ((event IN ('opened', 'helpful')) = (article_id IS NOT NULL)),
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, article_id) REFERENCES kb_articles (org_id, id) ON DELETE CASCADE,
    -- Each thing happens once a session: a repeated beacon changes nothing.
    UNIQUE NULLS NOT DISTINCT (org_id, session, event, article_id)
);
CREATE INDEX kb_deflection_events_time_idx ON kb_deflection_events (org_id, created_at);
