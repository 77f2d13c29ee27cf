-- The vocabulary of each organisation's retrieval index: every lexeme of its passages
-- (as the 'english' text search configuration makes them) with the number of
-- passages that contain it.
--
-- * The typo retriever looks for the lexemes nearest (by trigrams) to a question's
--   words in this table of words, not in whole passages: measured over 4,000
--   passages, trigram word similarity against the passages' full text took 740 ms
--   a query, and it grows with the corpus; the vocabulary grows far more slowly.
-- * The full-text retriever leaves out the lexemes so common in an organisation that
--   ranking every passage containing them would cost much and tell passages apart
--   little — the counts say which they are.
--
-- Statement-level triggers on kb_chunks keep it, so no writer of the index can forget
-- it. Writers of one organisation's index take turns on an advisory lock, so two
-- writers (the worker and `atum kb reindex`) never update the same counts in
-- opposite orders.
CREATE TABLE kb_terms (
    org_id  bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    term    text NOT NULL,
    chunks  integer NOT NULL CHECK (chunks >= 0),
    PRIMARY KEY (org_id, term)
);
CREATE INDEX kb_terms_trgm_idx ON kb_terms USING gin (term gin_trgm_ops);

-- A lexeme whose passages are all gone keeps its row with a count of 0 (readers skip
-- those): removing it would race with a writer adding it back, for little gain.
CREATE FUNCTION kb_terms_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM added) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('kb_terms'), o.org_id::integer)
    FROM (SELECT DISTINCT org_id FROM added ORDER BY org_id) o;
    INSERT INTO kb_terms (org_id, term, chunks)
    SELECT a.org_id, l.term, count(*)
    FROM added a, unnest(tsvector_to_array(a.search)) AS l (term)
    GROUP BY 1, 2
    ON CONFLICT (org_id, term) DO UPDATE SET chunks = kb_terms.chunks + EXCLUDED.chunks;
    RETURN NULL;
END $$;

CREATE FUNCTION kb_terms_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM removed) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('kb_terms'), o.org_id::integer)
    FROM (SELECT DISTINCT org_id FROM removed ORDER BY org_id) o;
    UPDATE kb_terms t SET chunks = greatest(0, t.chunks - g.n)
    FROM (SELECT r.org_id, l.term, count(*) AS n
          FROM removed r, unnest(tsvector_to_array(r.search)) AS l (term) GROUP BY 1, 2) g
    WHERE t.org_id = g.org_id AND t.term = g.term;
    RETURN NULL;
END $$;

-- An update that changes a passage's text takes its old lexemes out and puts its new
-- ones in. Most updates only store a vector; they count nothing.
CREATE FUNCTION kb_terms_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM removed o JOIN added n USING (id) WHERE o.search <> n.search) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('kb_terms'), o.org_id::integer)
    FROM (SELECT DISTINCT org_id FROM added ORDER BY org_id) o;
    UPDATE kb_terms t SET chunks = greatest(0, t.chunks - g.n)
    FROM (SELECT o.org_id, l.term, count(*) AS n
          FROM removed o JOIN added x USING (id), unnest(tsvector_to_array(o.search)) AS l (term)
          WHERE o.search <> x.search GROUP BY 1, 2) g
    WHERE t.org_id = g.org_id AND t.term = g.term;
    INSERT INTO kb_terms (org_id, term, chunks)
    SELECT x.org_id, l.term, count(*)
    FROM removed o JOIN added x USING (id), unnest(tsvector_to_array(x.search)) AS l (term)
    WHERE o.search <> x.search
    GROUP BY 1, 2
    ON CONFLICT (org_id, term) DO UPDATE SET chunks = kb_terms.chunks + EXCLUDED.chunks;
    RETURN NULL;
END $$;

CREATE TRIGGER kb_chunks_terms_added AFTER INSERT ON kb_chunks
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION kb_terms_added();
CREATE TRIGGER kb_chunks_terms_removed AFTER DELETE ON kb_chunks
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION kb_terms_removed();
CREATE TRIGGER kb_chunks_terms_changed AFTER UPDATE ON kb_chunks
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION kb_terms_changed();

INSERT INTO kb_terms (org_id, term, chunks)
SELECT c.org_id, l.term, count(*)
FROM kb_chunks c, unnest(tsvector_to_array(c.search)) AS l (term)
GROUP BY 1, 2;

-- Trigram similarity now runs over the vocabulary, not the passages.
DROP INDEX kb_chunks_trgm_idx;
