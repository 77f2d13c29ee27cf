-- The journal's kinds are a closed list, the one `tickets::events::Kind` names (and the
-- OpenAPI document, as an enum): the database refuses any other.

-- The demo seed wrote 'status_changed' for an agent's reply that solved a ticket, a kind
-- no other writer has; the journal calls that change 'updated'. History is append-only
-- (V1's trigger), so the trigger steps aside for this one correction, in this
-- transaction only.
ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_append_only;
UPDATE ticket_events SET event_type = 'updated' WHERE event_type = 'status_changed';
ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_append_only;

-- V1 held the name to a shape only (`^[a-z][a-z_]{1,62}$`).
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_event_type_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_event_type_check
    CHECK (event_type IN ('created', 'updated', 'comment_added', 'link_added', 'link_removed', 'merged_into',
                          'merged_from', 'lock_taken_over', 'sla_warning', 'sla_breached', 'sla_escalated',
                          'escalated'));
