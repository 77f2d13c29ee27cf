-- Files on tickets, replies, notes and articles (core::attachments). The bytes live in
-- the attachment store, content-addressed per organisation by their SHA-256, so the
-- same bytes are stored once however often they are attached. A row makes its bytes
-- visible and is written only after they are stored: a crash in between leaves bytes
-- without a row, which the sweep removes, never a row without bytes.
--
-- An upload starts pending (attached_at NULL): owned by its uploader, on nothing yet.
-- It becomes part of a ticket (its description: comment_id NULL), a comment, or an
-- article when that is created or edited with its id; pending rows nobody used are
-- removed after a day.
CREATE TABLE attachments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    uploader_id   bigint NOT NULL,
    sha256        bytea NOT NULL CHECK (length(sha256) = 32),
    size          bigint NOT NULL CHECK (size > 0),
    -- Cleaned on the way in (core::attachments::name): no path, no control or
    -- direction-changing characters.
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    -- Detected from the bytes; what is served.
    content_type  text NOT NULL CHECK (length(content_type) BETWEEN 3 AND 255),
    -- What the uploader said the type was, kept when it differs from the bytes.
    declared_type text CHECK (length(declared_type) <= 255),
    -- Virus scanning: 'not_required' when no scanner is configured.
    scan          text NOT NULL CHECK (scan IN ('not_required', 'pending', 'clean', 'infected', 'unscanned')),
    ticket_id     bigint,
    comment_id    bigint REFERENCES ticket_comments (id) ON DELETE CASCADE,
    article_id    bigint,
    attached_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, uploader_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, article_id) REFERENCES kb_articles (org_id, id) ON DELETE CASCADE,
    CHECK (comment_id IS NULL OR ticket_id IS NOT NULL),
    CHECK (ticket_id IS NULL OR article_id IS NULL),
    CHECK ((attached_at IS NULL) = (ticket_id IS NULL AND article_id IS NULL))
);
CREATE INDEX attachments_ticket_idx ON attachments (org_id, ticket_id, comment_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX attachments_article_idx ON attachments (org_id, article_id) WHERE article_id IS NOT NULL;
CREATE INDEX attachments_pending_idx ON attachments (created_at) WHERE attached_at IS NULL;
-- Whether bytes are still referenced (the sweep), and an organisation's storage.
CREATE INDEX attachments_blob_idx ON attachments (org_id, sha256);
