-- The retrieval index: published articles and solved tickets cut into chunks, each
-- searchable by full text (a weighted tsvector), by trigram similarity (typos), and —
-- once a model has embedded it — by its dense vector. atum-rag-worker keeps it in step
-- with its sources; the content hash lets it skip chunks whose text did not change
-- (and keep their embeddings).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE kb_chunks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    source        text NOT NULL CHECK (source IN ('article', 'ticket')),
    source_id     bigint NOT NULL,
    ordinal       integer NOT NULL CHECK (ordinal >= 0),
    title         text NOT NULL,
    body          text NOT NULL,
    -- Who may find it: public articles are 'public'; internal articles and tickets are 'internal'.
    visibility    text NOT NULL CHECK (visibility IN ('public', 'internal')),
    content_hash  bytea NOT NULL,
    search        tsvector GENERATED ALWAYS AS (
                      setweight(to_tsvector('english', title), 'A')
                      || setweight(to_tsvector('english', body), 'B')
                  ) STORED,
    -- L2-normalised float32 vector, little-endian, with the model that made it.
    embedding     bytea,
    model         text,
    indexed_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id, ordinal)
);
CREATE INDEX kb_chunks_org_idx ON kb_chunks (org_id, source, source_id);
CREATE INDEX kb_chunks_search_idx ON kb_chunks USING gin (search);
CREATE INDEX kb_chunks_trgm_idx ON kb_chunks USING gin ((title || ' ' || body) gin_trgm_ops);

-- How far the worker has indexed each organisation's sources: everything changed
-- before the mark (less a margin for late commits) is in the index. It reads changes
-- through the (org_id, updated_at) indexes the sources already have.
CREATE TABLE kb_index_state (
    org_id      bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    source      text NOT NULL CHECK (source IN ('article', 'ticket')),
    indexed_to  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, source)
);
