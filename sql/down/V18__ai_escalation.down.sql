-- Reverts V18__ai_escalation. What an escalation changed stays on the tickets, and
-- their history still says the AI did it; the rules stay in org_settings, unread.
DROP TABLE ticket_escalations;
DROP TABLE ticket_message_sentiment;
