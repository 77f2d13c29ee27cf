// The service catalog's editor: request types, their form fields and a preview as the customer sees it.
import { type FormEvent, useState } from 'react';
import { Pending } from '../../components/Failed';
import { type Failure, FieldError, failure, invalid, Outcome, SaveOrCancel } from '../../components/form';
import type { Schemas } from '../../lib/api';
import { useGroups } from '../../lib/directory';
import { $api, attempt } from '../../lib/query';
import { PRIORITIES } from '../../lib/tickets';
import { type Answers, RequestFields } from '../catalog';

type Item = Schemas['Item'];
type Field = Schemas['Field'];

const TYPES: Record<string, string> = {
  text: 'Short text',
  long_text: 'Long text',
  number: 'Number',
  date: 'Date',
  single_choice: 'One choice',
  multi_choice: 'Several choices',
  email: 'E-mail address',
  checkbox: 'Checkbox (must be ticked when required)',
};

/** A field as the editor holds it: choices one a line, bounds as typed. */
interface Draft {
  key: string;
  label: string;
  type: string;
  required: boolean;
  help: string;
  options: string;
  min: string;
  max: string;
  maxLength: string;
}

interface Editing {
  id: number | null;
  version: number;
  name: string;
  description: string;
  category: string;
  priority: string;
  groupId: string;
  published: boolean;
  fields: Draft[];
}

const draftOf = (f: Field): Draft => ({
  key: f.key,
  label: f.label,
  type: f.type,
  required: f.required ?? false,
  help: f.help ?? '',
  options: (f.options ?? []).join('\n'),
  min: f.min === null || f.min === undefined ? '' : String(f.min),
  max: f.max === null || f.max === undefined ? '' : String(f.max),
  maxLength: f.max_length ? String(f.max_length) : '',
});

const numberOr = (s: string) => (s.trim() === '' ? null : Number(s));

/** The field as the API takes it: only what its type has. */
export function fieldOf(d: Draft): Field {
  const f: Field = { key: d.key, label: d.label, type: d.type, required: d.required, help: d.help };
  if (d.type === 'single_choice' || d.type === 'multi_choice') {
    f.options = d.options
      .split('\n')
      .map((o) => o.trim())
      .filter(Boolean);
  }
  if (d.type === 'number') {
    f.min = numberOr(d.min);
    f.max = numberOr(d.max);
  }
  if ((d.type === 'text' || d.type === 'long_text') && d.maxLength.trim()) f.max_length = Number(d.maxLength);
  return f;
}

/** A key from a label: "Laptop model" → "laptop_model". */
export function keyOf(label: string): string {
  const k = label
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^[0-9_]+/, '');
  return k.slice(0, 40);
}

const blank = (): Editing => ({
  id: null,
  version: 0,
  name: '',
  description: '',
  category: '',
  priority: 'normal',
  groupId: '',
  published: true,
  fields: [{ key: 'details', label: 'Details', type: 'long_text', required: true, help: '', options: '', min: '', max: '', maxLength: '' }],
});

/**
 * The service catalog, for admins: request types with their forms — every field type,
 * required or optional, help text, choices, bounds — a preview as the customer sees
 * it, and versions (a changed form is a new version; tickets keep the one they were
 * filed with).
 */
export function Catalog() {
  const catalog = $api.useQuery('get', '/api/v1/catalog');
  const items: Item[] | null = catalog.data?.items ?? null;
  const groups = useGroups();
  const create = $api.useMutation('post', '/api/v1/admin/catalog');
  const update = $api.useMutation('put', '/api/v1/admin/catalog/{id}');
  const [editing, setEditing] = useState<Editing | null>(null);
  const [f, setF] = useState<Failure | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [answers, setAnswers] = useState<Answers>({});


  const edit = (item: Item | null) => {
    setF(null);
    setSaved(null);
    setAnswers({});
    setEditing(
      item
        ? {
            id: item.id,
            version: item.version,
            name: item.name,
            description: item.description,
            category: item.category ?? '',
            priority: item.priority,
            groupId: item.group_id ? String(item.group_id) : '',
            published: item.published,
            fields: item.fields.map(draftOf),
          }
        : blank(),
    );
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    setF(null);
    setSaved(null);
    const body: Schemas['ItemInput'] = {
      name: editing.name,
      description: editing.description,
      category: editing.category.trim() || null,
      priority: editing.priority as Schemas['Priority'],
      group_id: editing.groupId ? Number(editing.groupId) : null,
      published: editing.published,
      fields: editing.fields.map(fieldOf),
    };
    const { data, problem } = await attempt(
      editing.id === null ? create.mutateAsync({ body }) : update.mutateAsync({ params: { path: { id: editing.id } }, body }),
    );
    if (!data) {
      setF(failure(problem));
      return;
    }
    setSaved(`${data.name} saved as version ${data.version}${data.published ? '' : ' (not published)'}.`);
    setEditing(null);
    await catalog.refetch();
  };

  const setField = (i: number, change: Partial<Draft>) =>
    setEditing((old) => old && { ...old, fields: old.fields.map((d, j) => (j === i ? { ...d, ...change } : d)) });
  const moveField = (i: number, by: -1 | 1) =>
    setEditing((old) => {
      if (!old) return old;
      const fields = [...old.fields];
      const [d] = fields.splice(i, 1);
      fields.splice(i + by, 0, d);
      return { ...old, fields };
    });

  return (
    <section aria-labelledby="catalog-title" className="admin-section catalog">
      <h2 id="catalog-title">Service catalog</h2>
      <p>What customers can ask for, each with its form. The answers arrive on the ticket.</p>
      {items === null ? (
        <Pending query={catalog} what="catalog" />
      ) : items.length === 0 ? (
        <p>No request types yet.</p>
      ) : (
        <ul className="admin-list">
          {items.map((i) => (
            <li key={i.id} data-testid={`catalog-${i.name}`}>
              <strong>{i.name}</strong>: {i.fields.length} {i.fields.length === 1 ? 'field' : 'fields'}, version {i.version}
              {i.published ? '' : ', not published'}{' '}
              <button type="button" aria-label={`Edit ${i.name}`} onClick={() => edit(i)}>
                Edit
              </button>
            </li>
          ))}
        </ul>
      )}
      {!editing && (
        <button type="button" onClick={() => edit(null)}>
          New request type
        </button>
      )}
      {editing && (
        <div className="catalog-editor">
          <form onSubmit={(e) => void save(e)} aria-label={editing.id === null ? 'New request type' : 'Edit request type'} className="admin-form" noValidate>
            {editing.id !== null && <p>Version {editing.version}. Saving a changed form makes version {editing.version + 1}; tickets keep theirs.</p>}
            <label htmlFor="cat-name">Name</label>
            <input id="cat-name" value={editing.name} onChange={(e) => setEditing({ ...editing, name: e.target.value })} {...invalid(f, 'name', 'cat-name')} />
            <FieldError f={f} field="name" id="cat-name" />
            <label htmlFor="cat-description">Description (shown to the customer)</label>
            <textarea
              id="cat-description"
              rows={2}
              value={editing.description}
              onChange={(e) => setEditing({ ...editing, description: e.target.value })}
              {...invalid(f, 'description', 'cat-description')}
            />
            <FieldError f={f} field="description" id="cat-description" />
            <label htmlFor="cat-category">Ticket category (optional)</label>
            <input id="cat-category" value={editing.category} onChange={(e) => setEditing({ ...editing, category: e.target.value })} {...invalid(f, 'category', 'cat-category')} />
            <FieldError f={f} field="category" id="cat-category" />
            <label htmlFor="cat-priority">Ticket priority</label>
            <select id="cat-priority" value={editing.priority} onChange={(e) => setEditing({ ...editing, priority: e.target.value })}>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
            <label htmlFor="cat-group">Agent group</label>
            <select id="cat-group" value={editing.groupId} onChange={(e) => setEditing({ ...editing, groupId: e.target.value })} {...invalid(f, 'group_id', 'cat-group')}>
              <option value="">None</option>
              {groups.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
            <FieldError f={f} field="group_id" id="cat-group" />
            <label className="check">
              <input type="checkbox" checked={editing.published} onChange={(e) => setEditing({ ...editing, published: e.target.checked })} /> Published
              (customers can file it)
            </label>
            <h3>Fields</h3>
            <FieldError f={f} field="fields" id="cat-fields" />
            <ol className="form-fields">
              {editing.fields.map((d, i) => {
                const at = (p: string) => `fields[${i}].${p}`;
                const id = (p: string) => `field-${i}-${p}`;
                const n = i + 1;
                return (
                  <li key={i}>
                    <fieldset>
                      <legend>Field {n}</legend>
                      <label htmlFor={id('label')}>Label of field {n}</label>
                      <input
                        id={id('label')}
                        value={d.label}
                        onChange={(e) =>
                          setField(i, { label: e.target.value, ...(d.key === keyOf(d.label) || !d.key ? { key: keyOf(e.target.value) } : {}) })
                        }
                        {...invalid(f, at('label'), id('label'))}
                      />
                      <FieldError f={f} field={at('label')} id={id('label')} />
                      <label htmlFor={id('key')}>Key of field {n} (in the answers)</label>
                      <input id={id('key')} value={d.key} onChange={(e) => setField(i, { key: e.target.value })} {...invalid(f, at('key'), id('key'))} />
                      <FieldError f={f} field={at('key')} id={id('key')} />
                      <label htmlFor={id('type')}>Type of field {n}</label>
                      <select id={id('type')} value={d.type} onChange={(e) => setField(i, { type: e.target.value })} {...invalid(f, at('type'), id('type'))}>
                        {Object.entries(TYPES).map(([value, label]) => (
                          <option key={value} value={value}>
                            {label}
                          </option>
                        ))}
                      </select>
                      <FieldError f={f} field={at('type')} id={id('type')} />
                      <label className="check">
                        <input type="checkbox" checked={d.required} onChange={(e) => setField(i, { required: e.target.checked })} /> Field {n} is required
                      </label>
                      <label htmlFor={id('help')}>Help text of field {n}</label>
                      <input id={id('help')} value={d.help} onChange={(e) => setField(i, { help: e.target.value })} {...invalid(f, at('help'), id('help'))} />
                      <FieldError f={f} field={at('help')} id={id('help')} />
                      {(d.type === 'single_choice' || d.type === 'multi_choice') && (
                        <>
                          <label htmlFor={id('options')}>Choices of field {n} (one a line)</label>
                          <textarea
                            id={id('options')}
                            rows={3}
                            value={d.options}
                            onChange={(e) => setField(i, { options: e.target.value })}
                            {...invalid(f, at('options'), id('options'))}
                          />
                          <FieldError f={f} field={at('options')} id={id('options')} />
                        </>
                      )}
                      {d.type === 'number' && (
                        <>
                          <label htmlFor={id('min')}>Smallest number for field {n}</label>
                          <input id={id('min')} type="number" value={d.min} onChange={(e) => setField(i, { min: e.target.value })} {...invalid(f, at('min'), id('min'))} />
                          <FieldError f={f} field={at('min')} id={id('min')} />
                          <label htmlFor={id('max')}>Largest number for field {n}</label>
                          <input id={id('max')} type="number" value={d.max} onChange={(e) => setField(i, { max: e.target.value })} {...invalid(f, at('max'), id('max'))} />
                          <FieldError f={f} field={at('max')} id={id('max')} />
                        </>
                      )}
                      {(d.type === 'text' || d.type === 'long_text') && (
                        <>
                          <label htmlFor={id('max-length')}>Longest answer for field {n} (characters; empty: {d.type === 'text' ? 200 : 5000})</label>
                          <input
                            id={id('max-length')}
                            type="number"
                            value={d.maxLength}
                            onChange={(e) => setField(i, { maxLength: e.target.value })}
                            {...invalid(f, at('max_length'), id('max-length'))}
                          />
                          <FieldError f={f} field={at('max_length')} id={id('max-length')} />
                        </>
                      )}
                      <div className="actions">
                        <button type="button" disabled={i === 0} onClick={() => moveField(i, -1)}>
                          Move field {n} up
                        </button>
                        <button type="button" disabled={i === editing.fields.length - 1} onClick={() => moveField(i, 1)}>
                          Move field {n} down
                        </button>
                        <button type="button" onClick={() => setEditing({ ...editing, fields: editing.fields.filter((_, j) => j !== i) })}>
                          Remove field {n}
                        </button>
                      </div>
                    </fieldset>
                  </li>
                );
              })}
            </ol>
            <button
              type="button"
              onClick={() =>
                setEditing({
                  ...editing,
                  fields: [...editing.fields, { key: '', label: '', type: 'text', required: false, help: '', options: '', min: '', max: '', maxLength: '' }],
                })
              }
            >
              Add a field
            </button>
            <SaveOrCancel save="Save request type" onCancel={() => (setEditing(null), setF(null))} />
            <Outcome f={f} saved={null} />
          </form>
          <section className="customer-preview" aria-labelledby="preview-form-title">
            <h3 id="preview-form-title">As the customer sees it</h3>
            <h4>{editing.name || 'Untitled request'}</h4>
            {editing.description && <p>{editing.description}</p>}
            <RequestFields fields={editing.fields.map(fieldOf)} answers={answers} onChange={setAnswers} idPrefix="preview" />
          </section>
        </div>
      )}
      {!editing && <Outcome f={null} saved={saved} />}
    </section>
  );
}
