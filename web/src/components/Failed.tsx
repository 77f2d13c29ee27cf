// What a screen shows while its data loads, and when it could not be loaded.
import type { UseQueryResult } from '@tanstack/react-query';
import { asProblem } from '../lib/query';

/** The failure of a read, announced, with a way to try again. */
export function Failed({ error, what, retry }: { error: unknown; what: string; retry?: () => void }) {
  return (
    <div className="error" role="alert">
      <p>
        Could not load the {what}: {asProblem(error).message}
      </p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Nothing once `query` has its data; until then a status, or the failure. */
export function Pending({ query, what }: { query: Pick<UseQueryResult<unknown, unknown>, 'isPending' | 'isError' | 'error' | 'refetch'>; what: string }) {
  if (query.isError) return <Failed error={query.error} what={what} retry={() => void query.refetch()} />;
  if (query.isPending) return <p role="status">Loading the {what}…</p>;
  return null;
}
