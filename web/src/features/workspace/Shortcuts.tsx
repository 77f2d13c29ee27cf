// The workspace's keyboard: single-key shortcuts, Ctrl+K for the palette, and the list of them.
import { useEffect, useRef } from 'react';

export interface Keys {
  /** j / k: the next or previous ticket in the list. */
  move: (step: number) => void;
  /** r n a c i o: act on the open ticket, when one is open. */
  onTicket: ((key: 'r' | 'n' | 'a' | 'c' | 'i' | 'o') => void) | null;
  openPalette: () => void;
  openHelp: () => void;
  closeHelp: () => void;
}

/** Single keys, no Ctrl+Alt or AltGr combinations: those type characters on many keyboards. */
export function useShortcuts(keys: Keys) {
  // Read through a ref, so a key pressed just after a change sees it (the handler is
  // registered once).
  const now = useRef(keys);
  now.current = keys;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = now.current;
      const target = e.target as HTMLElement;
      const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
      if (e.key === 'Escape') k.closeHelp();
      // Ctrl+K (or Cmd+K) opens the palette from anywhere, even while typing.
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        k.openPalette();
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'j') k.move(1);
      else if (e.key === 'k') k.move(-1);
      else if (k.onTicket && (e.key === 'r' || e.key === 'n' || e.key === 'a' || e.key === 'c' || e.key === 'i' || e.key === 'o')) k.onTicket(e.key);
      else if (e.key === '?') k.openHelp();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

/** The list of shortcuts, as a dialog. */
export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  return (
    <div className="dialog-backdrop">
      <div role="dialog" aria-modal="true" aria-labelledby="help-title" className="dialog">
        <h2 id="help-title">Keyboard shortcuts</h2>
        <dl>
          <dt>j / k</dt>
          <dd>Next / previous ticket</dd>
          <dt>r</dt>
          <dd>Reply to the customer</dd>
          <dt>n</dt>
          <dd>Internal note</dd>
          <dt>a</dt>
          <dd>Accept the AI's triage</dd>
          <dt>c</dt>
          <dd>Correct the AI's triage</dd>
          <dt>i</dt>
          <dd>Insert the AI's draft into the reply</dd>
          <dt>o</dt>
          <dd>The requester's other tickets</dd>
          <dt>Ctrl+Enter</dt>
          <dd>Send</dd>
          <dt>Ctrl+Shift+Enter</dt>
          <dd>Send and open the next ticket</dd>
          <dt>Ctrl+K</dt>
          <dd>Command palette: go to a view, the dashboard, a new ticket…</dd>
          <dt>?</dt>
          <dd>This list</dd>
        </dl>
        <button type="button" autoFocus onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
