-- Reverts V16__ai_triage. What the AI changed stays on the tickets; its journal
-- entries become the job's (the AI ran as a job), so the old CHECK holds.
DROP TABLE ai_feedback;
DROP TABLE ticket_ai_triage;
DROP TABLE triage_models;
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_actor_kind_check;
-- The one change the append-only rule lets through, once.
ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_append_only;
UPDATE ticket_events SET actor_kind = 'job' WHERE actor_kind = 'ai';
ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_append_only;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_actor_kind_check
    CHECK (actor_kind IN ('user', 'sla_worker', 'job', 'housekeeping', 'operator', 'anonymous'));
