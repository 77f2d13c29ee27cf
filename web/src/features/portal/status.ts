// A ticket's status in the customer's words.
import type { Ticket } from '../../lib/api';

/** A request's status in the customer's words: what it means for them. */
export function customerStatus(status: Ticket['status']): string {
  switch (status) {
    case 'new':
    case 'open':
    case 'on_hold':
      return 'Open';
    case 'pending':
      return 'Waiting for your reply';
    case 'solved':
      return 'Solved';
    case 'closed':
      return 'Closed';
    default:
      return status;
  }
}
