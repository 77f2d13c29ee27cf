// What happens to the articles suggested on one visit of the request form, reported for the deflection figures.
import { useCallback, useEffect, useRef } from 'react';
import { reportDeflection } from '../../lib/beacon';

type Event = 'shown' | 'opened' | 'helpful' | 'abandoned' | 'submitted';

/** A visit's random id, as the API takes it (16 to 64 letters, digits, - or _). */
function visitId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Reports what happens in one visit of the request form, so the desk can count the
 * requests its articles answered: suggestions shown, an article opened or found
 * helpful, and how the visit ended. A visit with suggestions that ends without a
 * request — the customer went elsewhere, closed the tab or said an article helped —
 * is `abandoned`, once; sending the request makes it `submitted` instead.
 */
export function useDeflection(org: string) {
  const session = useRef(visitId());
  const state = useRef({ shown: false, ended: false });

  const send = useCallback(
    (event: Event, articleId?: number) =>
      // The page may be going away: the browser still delivers it.
      reportDeflection(org, { session: session.current, event, ...(articleId !== undefined ? { article_id: articleId } : {}) }),
    [org],
  );
  const abandon = useCallback(() => {
    if (!state.current.shown || state.current.ended) return;
    state.current.ended = true;
    void send('abandoned');
  }, [send]);

  useEffect(() => {
    window.addEventListener('pagehide', abandon);
    return () => {
      window.removeEventListener('pagehide', abandon);
      abandon();
    };
  }, [abandon]);

  return {
    shown: useCallback(() => {
      if (state.current.shown) return;
      state.current.shown = true;
      void send('shown');
    }, [send]),
    opened: useCallback((id: number) => void send('opened', id), [send]),
    /** The customer says an article answered them: the visit ends here, without a request. */
    helpful: useCallback(
      async (id: number) => {
        await send('helpful', id);
        abandon();
      },
      [send, abandon],
    ),
    // Sent even after an article "helped": a request sent in the end was not deflected.
    submitted: useCallback(() => {
      state.current.ended = true;
      if (state.current.shown) void send('submitted');
    }, [send]),
  };
}
