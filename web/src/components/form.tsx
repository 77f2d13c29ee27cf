// A form's shared pieces: the API's field errors beside their fields, the outcome announced, save and cancel.
import type { ReactNode } from 'react';
import type { Problem } from '../lib/api';
import { asProblem } from '../lib/query';

/**
 * What a failed save left to show: the API's message, and its field errors by the
 * field's name in the request (`email`, `entries[1].cidr`, …).
 */
export interface Failure {
  message: string;
  code: string;
  fields: Record<string, string>;
}

/** What a failed save shows, from what its mutation failed with. */
export function failure(error: unknown): Failure {
  const p: Problem = asProblem(error);
  return { message: p.fields ? 'Some values need fixing.' : p.message, code: p.code, fields: p.fields ?? {} };
}

/** The props that tie an input to its error (the error's id is `${id}-error`). */
export function invalid(f: Failure | null, field: string, id: string) {
  return f?.fields[field] ? { 'aria-invalid': true as const, 'aria-describedby': `${id}-error` } : {};
}

/** The API's error for one field, beside the field. */
export function FieldError({ f, field, id }: { f: Failure | null; field: string; id: string }) {
  const text = f?.fields[field];
  return text ? (
    <p id={`${id}-error`} className="field-error">
      {text}
    </p>
  ) : null;
}

/** A save's outcome, announced: the failure as an alert, success as a status. */
export function Outcome({ f, saved }: { f: Failure | null; saved: ReactNode }) {
  return (
    <div aria-live="polite">
      {f && (
        <p className="error" role="alert">
          {f.message}
        </p>
      )}
      {!f && saved && <p role="status">{saved}</p>}
    </div>
  );
}

/** A form's save button, and a cancel that drops what was typed. */
export function SaveOrCancel({ save, onCancel }: { save: string; onCancel: () => void }) {
  return (
    <div className="actions">
      <button type="submit">{save}</button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
