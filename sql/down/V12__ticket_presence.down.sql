-- Reverts V12__ticket_presence. Presence is ephemeral: nothing of value is lost.
DROP TABLE ticket_presence;
