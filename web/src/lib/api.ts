// The typed client for the public API, generated from /api/v1/openapi.json
// (`npm run api:types`; CI fails when src/api/schema.d.ts is stale). The session
// is the HttpOnly cookie the sign-in sets: no token is kept in script reach.
import createClient from 'openapi-fetch';
import type { components, paths } from '../api/schema';

export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? '',
  credentials: 'same-origin',
  // Looked up per call, so component tests can stand in a fake server.
  fetch: (request: Request) => globalThis.fetch(request),
});

export type Schemas = components['schemas'];
export type Ticket = Schemas['Ticket'];
export type TicketView = Schemas['TicketView'];
export type Comment = Schemas['Comment'];
export type User = Schemas['User'];
export type Me = Schemas['MeResponse'];
export type FeedEntry = Schemas['FeedEntry'];

/** The API's error shape, from any failed call. */
export interface Problem {
  status: number;
  code: string;
  message: string;
  fields?: Record<string, string>;
  /** What the code's documentation says comes with it (a lock's holder, say). */
  detail?: unknown;
  retryAfter?: number;
}

export function problem(error: unknown, response: Response): Problem {
  const body = (error as { error?: { code?: string; message?: string; fields?: Record<string, string>; detail?: unknown } })?.error;
  const retry = Number(response.headers.get('Retry-After'));
  return {
    status: response.status,
    code: body?.code ?? 'unknown',
    message: body?.message ?? `The server answered ${response.status}.`,
    fields: body?.fields,
    detail: body?.detail,
    retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined,
  };
}
