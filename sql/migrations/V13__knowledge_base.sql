-- The knowledge base: articles, and every version of each. The article row holds the
-- current version (what lists and search read); `kb_article_versions` keeps each
-- version as it was written: content, state and who wrote it when. Every change —
-- an edit, publishing, archiving — is a new version, so the history says what each
-- reader saw and when.
CREATE TABLE kb_articles (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    body         text NOT NULL CHECK (length(body) <= 100000),
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    visibility   text NOT NULL DEFAULT 'internal' CHECK (visibility IN ('public', 'internal')),
    tags         text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
    author_id    bigint NOT NULL,
    created_by   bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    search       tsvector GENERATED ALWAYS AS (
                     setweight(to_tsvector('english', title), 'A')
                     || setweight(to_tsvector('english', body), 'B')
                 ) STORED,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, author_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);
CREATE INDEX kb_articles_org_updated_idx ON kb_articles (org_id, updated_at DESC, id DESC);
CREATE INDEX kb_articles_search_idx ON kb_articles USING gin (search);
-- The portal reads only published public articles.
CREATE INDEX kb_articles_public_idx ON kb_articles (org_id, updated_at DESC) WHERE status = 'published' AND visibility = 'public';

CREATE TABLE kb_article_versions (
    org_id      bigint NOT NULL,
    article_id  bigint NOT NULL,
    version     integer NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    status      text NOT NULL,
    visibility  text NOT NULL,
    tags        text[] NOT NULL,
    author_id   bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (article_id, version),
    FOREIGN KEY (org_id, article_id) REFERENCES kb_articles (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, author_id) REFERENCES users (org_id, id)
);
