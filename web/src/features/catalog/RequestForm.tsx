// A service-catalog form's fields, as a customer fills them in and an admin previews them.
import type { Schemas } from '../../lib/api';

type Field = Schemas['Field'];
export type Answers = Record<string, string | number | boolean | string[]>;

/** The answers as the API takes them: numbers as numbers, empty answers left out. */
export function toSubmission(fields: Field[], answers: Answers): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const a = answers[field.key];
    if (a === undefined || a === '' || (Array.isArray(a) && a.length === 0)) continue;
    if (field.type === 'number' && typeof a === 'string') {
      const n = Number(a);
      out[field.key] = a.trim() !== '' && Number.isFinite(n) ? n : a;
    } else out[field.key] = a;
  }
  return out;
}

/** A field's help and the API's error under it, with the ids its control points to. */
function Notes({ id, help, error }: { id: string; help?: string; error?: string }) {
  return (
    <>
      {help && (
        <p id={`${id}-help`} className="help">
          {help}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </>
  );
}

interface Props {
  fields: Field[];
  answers: Answers;
  onChange: (answers: Answers) => void;
  /** The API's errors by `answers.<key>`. */
  errors?: Record<string, string>;
  /** Prefix of the inputs' ids, so two renderings on one page do not clash. */
  idPrefix: string;
}

/**
 * A catalog form's fields as a customer fills them in (the admin's preview renders
 * the same), each with its label, help, whether it is required, and the API's error
 * beside it.
 */
export function RequestFields({ fields, answers, onChange, errors = {}, idPrefix }: Props) {
  const set = (key: string, value: Answers[string]) => onChange({ ...answers, [key]: value });
  return (
    <>
      {fields.map((field) => {
        const id = `${idPrefix}-${field.key}`;
        const error = errors[`answers.${field.key}`];
        const described = [field.help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
        const common = { id, 'aria-describedby': described, 'aria-invalid': error ? true : undefined, required: field.required };
        const label = (
          <>
            {field.label}
            {field.required ? <span aria-hidden="true"> *</span> : <span className="optional"> (optional)</span>}
          </>
        );
        const value = answers[field.key];
        let input;
        switch (field.type) {
          case 'long_text':
            input = <textarea {...common} rows={4} maxLength={field.max_length ?? undefined} value={String(value ?? '')} onChange={(e) => set(field.key, e.target.value)} />;
            break;
          case 'single_choice':
            input = (
              <select {...common} value={String(value ?? '')} onChange={(e) => set(field.key, e.target.value)}>
                <option value="">Choose…</option>
                {(field.options ?? []).map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            );
            break;
          case 'multi_choice': {
            const chosen = Array.isArray(value) ? value : [];
            return (
              <fieldset key={field.key} className="request-field" aria-describedby={described} aria-invalid={error ? true : undefined}>
                <legend>{label}</legend>
                {(field.options ?? []).map((o) => (
                  <label key={o} className="check">
                    <input
                      type="checkbox"
                      checked={chosen.includes(o)}
                      onChange={(e) => set(field.key, e.target.checked ? [...chosen, o] : chosen.filter((c) => c !== o))}
                    />{' '}
                    {o}
                  </label>
                ))}
                <Notes id={id} help={field.help} error={error} />
              </fieldset>
            );
          }
          case 'checkbox':
            return (
              <div key={field.key} className="request-field">
                <label className="check">
                  <input {...common} type="checkbox" checked={value === true} onChange={(e) => set(field.key, e.target.checked)} /> {label}
                </label>
                <Notes id={id} help={field.help} error={error} />
              </div>
            );
          default:
            input = (
              <input
                {...common}
                type={field.type === 'number' ? 'number' : field.type === 'date' ? 'date' : field.type === 'email' ? 'email' : 'text'}
                min={field.min ?? undefined}
                max={field.max ?? undefined}
                maxLength={field.max_length ?? undefined}
                value={String(value ?? '')}
                onChange={(e) => set(field.key, e.target.value)}
              />
            );
        }
        return (
          <div key={field.key} className="request-field">
            <label htmlFor={id}>{label}</label>
            {input}
            <Notes id={id} help={field.help} error={error} />
          </div>
        );
      })}
    </>
  );
}
