-- Reverts V22__copilot_scope_step: the scope steps go (they are a trace, not data a
-- run needs to be read), then the kind's old list comes back.
DELETE FROM copilot_steps WHERE kind = 'scope';
ALTER TABLE copilot_steps DROP CONSTRAINT copilot_steps_kind_check;
ALTER TABLE copilot_steps ADD CONSTRAINT copilot_steps_kind_check
    CHECK (kind IN ('plan', 'tool', 'llm', 'gate'));
