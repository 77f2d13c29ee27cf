-- Auto-triage: a model per organisation and field learnt from its own tickets, what
-- it said about each ticket (and what it changed), and what agents said back.

-- The AI is an actor of its own: a change it applied reads "the AI set category".
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_actor_kind_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_actor_kind_check
    CHECK (actor_kind IN ('user', 'sla_worker', 'job', 'housekeeping', 'operator', 'anonymous', 'ai'));

-- One row per training of one field: a model ('ready'), or why there is none
-- ('too_little': `needed` more labelled tickets; 'failed': `detail`). The newest
-- 'ready' row of an organisation's field is the model in use.
CREATE TABLE triage_models (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    field        text NOT NULL CHECK (field IN ('category', 'priority')),
    status       text NOT NULL CHECK (status IN ('ready', 'too_little', 'failed')),
    -- The embedding model it was trained with, and the stored layout's version.
    embedder     text NOT NULL,
    format       integer NOT NULL,
    -- postcard-encoded `atum_ai::triage::Model`.
    model        bytea CHECK ((status = 'ready') = (model IS NOT NULL)),
    labels       text[] NOT NULL DEFAULT '{}',
    -- Labelled tickets it saw, and how many more a 'too_little' organisation needs.
    examples     integer NOT NULL CHECK (examples >= 0),
    needed       integer CHECK (needed IS NULL OR needed > 0),
    -- Accuracy, macro-F1, calibration and tiers on the held-back slice.
    evaluation   jsonb,
    detail       text,
    -- A hash of the history and embedder it saw: a training over the same is skipped.
    inputs       text NOT NULL,
    duration_ms  integer NOT NULL CHECK (duration_ms >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
CREATE INDEX triage_models_current_idx ON triage_models (org_id, field, id DESC);

-- What triage said about a ticket: one row a ticket, replaced when its inputs change.
CREATE TABLE ticket_ai_triage (
    org_id               bigint NOT NULL,
    ticket_id            bigint NOT NULL,
    -- A hash of the text and the models that produced this row: a re-run with the
    -- same inputs changes nothing.
    inputs               text NOT NULL,
    -- {value, confidence, tier, alternatives, neighbours, model_id} or null (no model).
    category             jsonb,
    priority             jsonb,
    sentiment_score      real NOT NULL CHECK (sentiment_score BETWEEN -1 AND 1),
    sentiment_label      text NOT NULL CHECK (sentiment_label IN ('negative', 'neutral', 'positive')),
    language             text,
    language_confidence  real CHECK (language_confidence IS NULL OR language_confidence BETWEEN 0 AND 1),
    -- The fields triage set on the ticket: {field: {before, after}}.
    applied              jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, ticket_id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE
);

-- An agent's answer to a suggestion: accepted, corrected (to `value`) or rejected.
-- Corrections change the ticket, so the next training learns from them; an applied
-- value nobody accepted is not learnt from (the model would learn its own guesses).
CREATE TABLE ai_feedback (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL,
    ticket_id   bigint NOT NULL,
    field       text NOT NULL CHECK (field IN ('category', 'priority')),
    suggested   text NOT NULL,
    confidence  real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    verdict     text NOT NULL CHECK (verdict IN ('accepted', 'corrected', 'rejected')),
    value       text CHECK ((verdict = 'corrected') = (value IS NOT NULL)),
    model_id    bigint,
    user_id     bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, model_id) REFERENCES triage_models (org_id, id) ON DELETE SET NULL (model_id)
);
CREATE INDEX ai_feedback_ticket_idx ON ai_feedback (org_id, ticket_id, field, id DESC);
