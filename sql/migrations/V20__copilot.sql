-- The caged copilot: each run an agent asked about a ticket, and its steps (the plan,
-- each tool call, any model call, the citation gate), named after the OpenTelemetry
-- GenAI conventions so a trace exporter maps them one to one.

CREATE TABLE copilot_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL,
    user_id         bigint NOT NULL,
    ticket_id       bigint NOT NULL,
    question        text NOT NULL CHECK (length(question) BETWEEN 1 AND 1000),
    mode            text NOT NULL CHECK (mode IN ('offline', 'llm')),
    -- The versions of what made the answer, and the thresholds it was held to.
    planner         text NOT NULL,
    answerer        text NOT NULL,
    gate            text NOT NULL,
    thresholds      jsonb NOT NULL,
    -- The model and its parameters, in the llm mode.
    model           jsonb,
    -- The retrieval index as the run read it (its passages' ids and hashes, hashed).
    index_version   text NOT NULL,
    status          text NOT NULL CHECK (status IN ('answered', 'refused', 'error')),
    answer          text,
    -- [{start, end, source_id, source, title, provenance, quote_start, quote_end, content_hash}]
    citations       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(citations) = 'array'),
    refusal         text,
    -- The gate's verdict on each sentence.
    verdicts        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(verdicts) = 'array'),
    duration_ms     integer NOT NULL CHECK (duration_ms >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'answered') = (answer IS NOT NULL)),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE
);
CREATE INDEX copilot_runs_ticket_idx ON copilot_runs (org_id, ticket_id, id DESC);

CREATE TABLE copilot_steps (
    run_id          bigint NOT NULL REFERENCES copilot_runs (id) ON DELETE CASCADE,
    seq             integer NOT NULL CHECK (seq >= 0),
    kind            text NOT NULL CHECK (kind IN ('plan', 'tool', 'llm', 'gate')),
    -- gen_ai.tool.name (or the planner's, the gate's name).
    name            text NOT NULL,
    -- gen_ai.tool.call.arguments, canonical JSON (keys sorted).
    arguments       jsonb NOT NULL,
    -- gen_ai.tool.call.result, and the SHA-256 of its canonical JSON.
    result          jsonb,
    result_sha256   text,
    -- [{source_id, content_hash, provenance}] of the passages the step returned.
    sources         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(sources) = 'array'),
    duration_ms     integer NOT NULL CHECK (duration_ms >= 0),
    error           text,
    PRIMARY KEY (run_id, seq)
);
