-- Reverts V17__ai_suggestions. Drafts and suggestions are derived data: the jobs
-- would make them again; the acceptance figures over them are lost.
DROP TABLE ai_suggestions;
DROP TABLE ticket_kb_suggestions;
