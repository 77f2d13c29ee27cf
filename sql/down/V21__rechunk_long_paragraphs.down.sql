-- Reverts V21__rechunk_long_paragraphs: nothing to undo. The marks it forgot are
-- rebuilt by the retrieval worker's next pass; the passages stay as that pass cut them.
SELECT 1;
