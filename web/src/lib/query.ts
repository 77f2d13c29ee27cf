// The query layer: TanStack Query over the typed client. Every screen reads and writes
// through these hooks, so answers are cached and shared, a failed read is retried when
// it may succeed, and every failure reaches the person as a Problem.
import { type InfiniteData, QueryClient, type QueryKey, useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import createHooks from 'openapi-react-query';
import { useCallback, useEffect, useRef } from 'react';
import { api, problem, type Problem } from './api';

type Client = typeof api;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The typed client, except that a failure comes back as a Problem (the status, the
 * API's code and message): openapi-react-query throws whatever the client returns as
 * its error, and a screen needs the status as well as the body.
 */
const problemClient = Object.fromEntries(
  METHODS.map((method) => [
    method,
    async (path: string, init?: object) => {
      const result = await (api[method] as (p: string, i?: object) => Promise<{ error?: unknown; response: Response }>)(path, init);
      return result.response.ok ? result : { ...result, error: problem(result.error, result.response) };
    },
  ]),
) as unknown as Client;

/** `$api.useQuery('get', path, init)`, `$api.useMutation('post', path)`: typed by the OpenAPI document. */
export const $api = createHooks(problemClient);

/** What went wrong, from anything a query or a mutation failed with. */
export function asProblem(error: unknown): Problem {
  if (error && typeof error === 'object' && 'status' in error && 'code' in error && 'message' in error) return error as Problem;
  const message = error instanceof Error ? error.message : 'The request failed.';
  return { status: 0, code: 'network', message: `Could not reach the server: ${message}` };
}

/**
 * `GET path` a page at a time: the first page without `param`, each next one with
 * `param` set to what `next` reads from the page before (undefined: no more pages).
 * (openapi-react-query's own form sends `param=0` for the first page, which the API
 * rightly refuses as a cursor.)
 */
export function usePages<T>(
  path: string,
  init: { params: { path?: Record<string, unknown>; query?: Record<string, unknown> } },
  param: string,
  next: (last: T) => string | number | undefined,
) {
  return useInfiniteQuery<T, Problem, InfiniteData<T>, QueryKey, string | number | undefined>({
    queryKey: getKey(path, { ...init, pages: param }),
    initialPageParam: undefined,
    getNextPageParam: next,
    queryFn: async ({ pageParam, signal }) => {
      const query = { ...init.params.query, ...(pageParam === undefined ? {} : { [param]: pageParam }) };
      const get = problemClient.GET as (p: string, i: object) => Promise<{ data?: T; error?: unknown }>;
      const { data, error } = await get(path, { params: { ...init.params, query }, signal });
      if (error !== undefined || data === undefined) throw error ?? asProblem(undefined);
      return data;
    },
  });
}

/** Retries what may succeed a moment later: no answer at all, a 5xx, or 429. Never a refusal. */
function retryable(failures: number, error: unknown): boolean {
  const { status } = asProblem(error);
  return failures < 2 && (status === 0 || status === 429 || status >= 500);
}

export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      // The event stream says when something changed; a focused tab does not. A screen
      // shows what is cached at once and asks again as it opens (staleTime 0).
      queries: { retry: retryable, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

/** The key of `GET path` (with `init`, if given), for invalidating every copy of it. */
function getKey(path: string, init?: object): QueryKey {
  return init === undefined ? ['get', path] : ['get', path, init];
}

/** Marks the answers of `GET path` (all of them, or those with `init`) stale, refetching those on screen. */
export function useInvalidate() {
  const client = useQueryClient();
  return useCallback((path: string, init?: object) => client.invalidateQueries({ queryKey: getKey(path, init) }), [client]);
}

type Query = Record<string, string | number | undefined>;

/**
 * `GET path` with `If-None-Match: known`: `undefined` when the answer has not changed
 * (a 304), else the answer and its ETag. Throws the Problem of a failure.
 */
async function getIfChanged<T>(path: string, query: Query, known: string | undefined, signal?: AbortSignal) {
  const get = api.GET as (p: string, i: object) => Promise<{ data?: T; error?: unknown; response: Response }>;
  const { data, error, response } = await get(path, { params: { query }, headers: known ? { 'If-None-Match': known } : {}, signal });
  if (response.status === 304 && known) return undefined;
  if (!response.ok || data === undefined) throw problem(error, response);
  return { data, etag: response.headers.get('ETag') ?? undefined };
}

/**
 * `GET path` asked again with the ETag of the last answer: an unchanged answer costs
 * a 304 and keeps what is shown. For what is polled or refreshed on every change.
 */
export function useEtagQuery<T>(path: string, query: Query, options: { refetchInterval?: number; enabled?: boolean } = {}) {
  const etags = useRef(new Map<string, string>());
  const client = useQueryClient();
  const key = getKey(path, { params: { query }, etag: true });
  return useQuery<T, Problem>({
    queryKey: key,
    queryFn: async ({ signal }) => {
      const id = JSON.stringify(key);
      const previous = client.getQueryData<T>(key);
      const answer = await getIfChanged<T>(path, query, previous === undefined ? undefined : etags.current.get(id), signal);
      if (!answer) return previous as T;
      if (answer.etag) etags.current.set(id, answer.etag);
      return answer.data;
    },
    ...options,
  });
}

/**
 * A function that asks `GET path` through the query layer (retried, de-duplicated,
 * never served from the cache), sending `known` as the ETag: it settles as `undefined`
 * when nothing changed. For lists a screen keeps itself, page by page.
 */
export function useFetchIfChanged() {
  const client = useQueryClient();
  return useCallback(
    <T>(path: string, query: Query, known?: string) =>
      attempt(
        client.fetchQuery({
          queryKey: getKey(path, { params: { query }, known }),
          queryFn: ({ signal }) => getIfChanged<T>(path, query, known, signal).then((a) => a ?? null),
          staleTime: 0,
          gcTime: 0,
        }),
      ),
    [client],
  );
}

/**
 * `run` at most once every `ms`: the first call starts the wait, the calls during it
 * are folded into the one at its end. For refreshes a burst of changes asks for.
 */
export function useThrottle(run: () => void, ms: number) {
  const timer = useRef<number | undefined>(undefined);
  const latest = useRef(run);
  latest.current = run;
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, ms);
  }, [ms]);
}

/** What a mutation's `mutateAsync` settled as: its data, or the Problem it failed with. */
export async function attempt<T>(pending: Promise<T>): Promise<{ data: T; problem?: undefined } | { data?: undefined; problem: Problem }> {
  try {
    return { data: await pending };
  } catch (error) {
    return { problem: asProblem(error) };
  }
}
