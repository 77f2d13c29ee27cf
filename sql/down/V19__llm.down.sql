-- Reverts V19__llm. Drafts the model worded stay, with their citations; what says
-- they were worded by a model, the endpoints and the request log are dropped.
ALTER TABLE ai_suggestions DROP COLUMN llm_request_id;
ALTER TABLE ai_suggestions DROP COLUMN worded_by;
ALTER TABLE ai_suggestions DROP COLUMN wording;
DROP TABLE llm_requests;
DROP TABLE llm_endpoints;
