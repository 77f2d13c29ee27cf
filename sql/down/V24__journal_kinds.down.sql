-- Reverts V24__journal_kinds: back to V1's check of the name's shape only. The demo's
-- 'status_changed' entries stay 'updated' (which of them were is not recorded, and
-- 'updated' is what they were).
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_event_type_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_event_type_check
    CHECK (event_type ~ '^[a-z][a-z_]{1,62}$');
