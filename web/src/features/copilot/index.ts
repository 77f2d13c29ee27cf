// The caged copilot's panel on a ticket.
export { Copilot } from './Copilot';
