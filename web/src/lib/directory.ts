// Who is in the organisation and its agent groups: names for authors and requesters,
// the assignee, group and member lists. One cached query each, shared by every screen.
import type { Schemas, User } from './api';
import { $api } from './query';

const NOBODY: User[] = [];
const NO_GROUPS: Schemas['Group'][] = [];

/** Everyone in the organisation (GET /api/v1/users). */
export function usePeople(): User[] {
  return $api.useQuery('get', '/api/v1/users').data?.items ?? NOBODY;
}

/** The agent groups (GET /api/v1/admin/groups). */
export function useGroups(): Schemas['Group'][] {
  return $api.useQuery('get', '/api/v1/admin/groups').data?.items ?? NO_GROUPS;
}
