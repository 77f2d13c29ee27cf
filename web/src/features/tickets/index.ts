// One ticket open in the workspace: its conversation, fields, clocks, relations and requester.
export { TicketView, type TicketViewHandle } from './TicketView';
