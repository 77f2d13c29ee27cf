-- Reverts V8__agent_workflow.
DROP TABLE ticket_catalog_requests;
DROP TABLE service_catalog_forms;
DROP TABLE service_catalog_items;
DROP TABLE ticket_requesters;
ALTER TABLE tickets DROP COLUMN merged_into_id;
DROP TABLE ticket_relationships;
DROP TABLE ticket_locks;
