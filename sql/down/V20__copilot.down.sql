-- Reverts V20__copilot: the copilot's runs and their steps are dropped.
DROP TABLE copilot_steps;
DROP TABLE copilot_runs;
