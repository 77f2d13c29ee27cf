-- The copilot's second gate (core::copilot::scope) is stored as a step of its own:
-- the question's score for each intent and the floor it was held to.
ALTER TABLE copilot_steps DROP CONSTRAINT copilot_steps_kind_check;
ALTER TABLE copilot_steps ADD CONSTRAINT copilot_steps_kind_check
    CHECK (kind IN ('plan', 'scope', 'tool', 'llm', 'gate'));
