-- Reverts V5__agent_groups.
ALTER TABLE sla_policies DROP COLUMN escalate_group_id;
ALTER TABLE tickets DROP COLUMN group_id;
DROP TABLE agent_group_members;
DROP TABLE agent_groups;
