// A part of the page that loads on its own (a lazy chunk): a status while it does, an alert if it fails.
import { Component, type ReactNode, Suspense } from 'react';

interface State {
  failed: boolean;
}

/**
 * Catches what a part of the page threw while loading or drawing (a chunk that did
 * not arrive, say), so the rest of the page stays and the person is told, instead of
 * the whole screen going blank.
 */
class Boundary extends Component<{ what: string; children: ReactNode }, State> {
  state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  componentDidCatch(error: unknown) {
    console.error(`${this.props.what} failed to load`, error);
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div role="alert">
        <p>The {this.props.what} did not load.</p>
        <button type="button" onClick={() => window.location.reload()}>
          Reload the page
        </button>
      </div>
    );
  }
}

/** A part of the page that loads on its own: a status while it does, an alert if it fails. */
export function Loading({ what, children }: { what: string; children: ReactNode }) {
  return (
    <Boundary what={what}>
      <Suspense fallback={<p role="status">Loading the {what}…</p>}>{children}</Suspense>
    </Boundary>
  );
}
