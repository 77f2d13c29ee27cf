// The AI beside a ticket (triage, suggested articles, the draft reply) and its settings.
export { default as AiSettings } from './AiSettings';
export { type DraftHandle, DraftReply } from './Draft';
export { Suggested } from './Suggested';
export { Triage, type TriageHandle } from './Triage';
export { useTicketAi } from './ticketAi';
