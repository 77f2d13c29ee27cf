-- Reverts V17__ai_suggestions. Drafts and suggestions are derived data: the jobs
-- would make them again; the acceptance and deflection figures are lost.
DROP TABLE kb_deflection_events;
DROP TABLE ai_suggestions;
DROP TABLE ticket_kb_suggestions;
