-- The optional language model: an organisation's endpoint (what an admin configured,
-- with its API key sealed by the secret key file), every request made to it for
-- audit, and which drafts it worded.

CREATE TABLE llm_endpoints (
    org_id      bigint PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    provider    text NOT NULL CHECK (provider IN ('ollama', 'openai')),
    -- The server's root: /api/chat (Ollama) or /v1/chat/completions is appended.
    base_url    text NOT NULL CHECK (base_url ~ '^https?://'),
    model       text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
    -- AES-256-GCM under ATUM_SECRET_KEY_FILE, bound to the organisation; both or neither.
    api_key_ciphertext bytea,
    api_key_nonce      bytea CHECK ((api_key_nonce IS NULL) = (api_key_ciphertext IS NULL)),
    timeout_ms  integer NOT NULL CHECK (timeout_ms BETWEEN 1000 AND 300000),
    retries     smallint NOT NULL CHECK (retries BETWEEN 0 AND 5),
    -- The features that use it (e.g. 'reply': draft replies are reworded).
    features    text[] NOT NULL DEFAULT '{}',
    updated_by  bigint,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row a request: what was sent (the messages and the schema asked for, never the
-- key), what came back, how long it took, and what became of it.
CREATE TABLE llm_requests (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    feature     text NOT NULL,
    ticket_id   bigint,
    provider    text NOT NULL,
    model       text NOT NULL,
    url         text NOT NULL,
    request     jsonb NOT NULL,
    -- The last attempt's answer as received (at most 64 KiB of it).
    response    text,
    -- ok: the output was used; invalid: not the JSON asked for; unsupported: a
    -- sentence its citations do not back; timeout, unreachable, http_error: no answer.
    status      text NOT NULL CHECK (status IN ('ok', 'invalid', 'unsupported', 'timeout', 'unreachable', 'http_error')),
    error       text,
    attempts    smallint NOT NULL CHECK (attempts >= 1),
    duration_ms integer NOT NULL CHECK (duration_ms >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_requests_org_idx ON llm_requests (org_id, id DESC);

-- A draft the model worded: which model, and the request that did it. NULL: the
-- extractive draft (no model configured, or its answer was not used). `wording`:
-- whether a model was asked to word it (asked), did (done), or was not used (refused).
ALTER TABLE ai_suggestions ADD COLUMN wording text CHECK (wording IN ('asked', 'done', 'refused'));
ALTER TABLE ai_suggestions ADD COLUMN worded_by text;
ALTER TABLE ai_suggestions ADD COLUMN llm_request_id bigint REFERENCES llm_requests (id) ON DELETE SET NULL;
