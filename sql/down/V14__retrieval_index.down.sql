-- Reverts V14__retrieval_index. The index is derived data: atum-rag-worker rebuilds
-- it from the articles and tickets. Nothing else of ours uses pg_trgm.
DROP TABLE kb_index_state;
DROP TABLE kb_chunks;
DROP EXTENSION IF EXISTS pg_trgm;
