-- The chunker now cuts a paragraph longer than a passage between its list items and
-- sentences instead of every 180 words, so no passage starts in the middle of a
-- sentence. Forgetting the index marks makes the retrieval worker look at every source
-- again: passages whose text is unchanged keep their embeddings, the others are
-- re-cut and re-embedded (what `atum kb reindex` does by hand).
DELETE FROM kb_index_state;
