-- Reverts V15__retrieval_terms. The vocabulary is derived from kb_chunks; V14's
-- trigram index over the passages comes back for V14's typo retriever.
DROP TRIGGER kb_chunks_terms_changed ON kb_chunks;
DROP TRIGGER kb_chunks_terms_removed ON kb_chunks;
DROP TRIGGER kb_chunks_terms_added ON kb_chunks;
DROP FUNCTION kb_terms_changed();
DROP FUNCTION kb_terms_removed();
DROP FUNCTION kb_terms_added();
DROP TABLE kb_terms;
CREATE INDEX kb_chunks_trgm_idx ON kb_chunks USING gin ((title || ' ' || body) gin_trgm_ops);
