// How a ticket screen names who did something.
import type { Schemas } from '../../lib/api';

/** A person's name, or their id while the list of people has not arrived. */
export function nameOf(people: Schemas['User'][], userId: number | null | undefined): string {
  if (!userId) return 'nobody';
  return people.find((u) => u.id === userId)?.display_name ?? `user #${userId}`;
}

/** Which part of the system acted: "the AI", "the SLA worker", "the operator"… */
export function actorName(kind: string): string {
  if (kind === 'ai') return 'the AI';
  if (kind === 'sla_worker') return 'the SLA worker';
  return `the ${kind.replaceAll('_', ' ')}`;
}
