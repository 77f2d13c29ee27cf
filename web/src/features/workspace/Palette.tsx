// The command palette (Ctrl+K): go to a view, a pane, an action, by typing.
import { type KeyboardEvent, useMemo, useState } from 'react';

export interface Command {
  label: string;
  run: () => void;
}

interface Props {
  commands: Command[];
  onClose: () => void;
}

/** Ctrl+K: type a few letters of what you want, Enter runs it. */
export function Palette({ commands, onClose }: Props) {
  const [text, setText] = useState('');
  const [at, setAt] = useState(0);
  const matches = useMemo(() => {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    return commands.filter((c) => words.every((w) => c.label.toLowerCase().includes(w)));
  }, [commands, text]);
  const chosen = Math.min(at, Math.max(0, matches.length - 1));

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown') setAt((i) => Math.min(i + 1, matches.length - 1));
    else if (e.key === 'ArrowUp') setAt((i) => Math.max(i - 1, 0));
    else if (e.key === 'Enter' && matches[chosen]) {
      onClose();
      matches[chosen].run();
    } else if (e.key === 'Escape') onClose();
    else return;
    e.preventDefault();
  };

  return (
    <div className="dialog-backdrop" onClick={onClose}>
      <div role="dialog" aria-modal="true" aria-label="Command palette" className="dialog palette" onClick={(e) => e.stopPropagation()}>
        <label htmlFor="palette-input">Go to or do</label>
        <input
          id="palette-input"
          autoFocus
          role="combobox"
          aria-expanded="true"
          aria-controls="palette-list"
          aria-activedescendant={matches[chosen] ? `command-${chosen}` : undefined}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setAt(0);
          }}
          onKeyDown={onKey}
        />
        <ul id="palette-list" role="listbox" aria-label="Commands">
          {matches.map((c, i) => (
            <li
              key={c.label}
              id={`command-${i}`}
              role="option"
              aria-selected={i === chosen}
              onClick={() => {
                onClose();
                c.run();
              }}
            >
              {c.label}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
