-- Reverts V1__initial_schema: drops everything it created, dependants first.
DROP TABLE org_settings;
DROP TRIGGER ticket_events_append_only ON ticket_events;
DROP TABLE ticket_events;
DROP FUNCTION ticket_events_refuse_update();
DROP TABLE ticket_comments;
DROP TABLE tickets;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE organizations;
