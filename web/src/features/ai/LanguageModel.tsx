// An optional language model of the organisation's own: its endpoint, what it may do, a test and its request log.
import { type FormEvent, useEffect, useState } from 'react';
import { Failed } from '../../components/Failed';
import type { Schemas } from '../../lib/api';
import { $api, attempt } from '../../lib/query';
import { useSaveSettings } from '../../lib/settings';

type Endpoint = Schemas['EndpointView'];
type Provider = Schemas['Provider'];
type LogRow = Schemas['RequestView'];

const PROVIDERS: Record<Provider, string> = {
  ollama: 'Ollama (/api/chat)',
  openai: 'OpenAI-compatible (/v1/chat/completions)',
};

const OUTCOMES: Record<Schemas['Outcome'], string> = {
  ok: 'Used',
  invalid: 'Not the JSON asked for',
  unsupported: 'Not backed by its sources',
  timeout: 'Timed out',
  unreachable: 'Unreachable',
  http_error: 'HTTP error',
};

/** The form's fields as typed: numbers stay text until saved. */
interface Form {
  provider: Provider;
  baseUrl: string;
  model: string;
  apiKey: string;
  removeKey: boolean;
  timeoutS: string;
  retries: string;
  reply: boolean;
  copilot: boolean;
}

const form = (e: Endpoint | null): Form => ({
  provider: e?.provider ?? 'ollama',
  baseUrl: e?.base_url ?? 'http://127.0.0.1:11434',
  model: e?.model ?? '',
  apiKey: '',
  removeKey: false,
  timeoutS: String((e?.timeout_ms ?? 30_000) / 1000),
  retries: String(e?.retries ?? 1),
  reply: e ? e.features.includes('reply') : true,
  copilot: e ? e.features.includes('copilot') : false,
});

/**
 * The optional language model, for admins: where it is (Ollama or any
 * OpenAI-compatible server), what it may do, a connection test, and the log of every
 * request made to it. Nothing leaves the machine until one is saved here.
 */
export function LanguageModel({ endpoint }: { endpoint: Endpoint | null | undefined }) {
  const [current, setCurrent] = useState<Endpoint | null | undefined>(endpoint);
  const [f, setF] = useState<Form | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const [tested, setTested] = useState<Schemas['Probe'] | null>(null);
  const requests = $api.useQuery('get', '/api/v1/ai/llm/requests', { params: { query: { limit: 20 } } });
  const log: LogRow[] | null = requests.data ?? null;
  const saveSettings = useSaveSettings();
  const connectionTest = $api.useMutation('post', '/api/v1/ai/llm/test', { onSettled: () => void requests.refetch() });

  useEffect(() => {
    if (endpoint !== undefined && f === null) {
      setCurrent(endpoint);
      setF(form(endpoint));
    }
  }, [endpoint, f]);


  const set = (change: Partial<Form>) => setF((old) => (old ? { ...old, ...change } : old));

  const send = async (llm: Schemas['EndpointChange'] | null, done: string) => {
    setSaved(null);
    setError(null);
    setFields({});
    setTested(null);
    const { data, problem: p } = await attempt(saveSettings.mutateAsync({ body: { ai: { llm } } }));
    if (data) {
      setCurrent(data.ai.llm ?? null);
      setF(form(data.ai.llm ?? null));
      setSaved(done);
      return;
    }
    setFields(p.fields ?? {});
    setError(p.fields ? 'Some values need fixing.' : p.message);
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!f) return;
    const llm: Schemas['EndpointChange'] = {
      provider: f.provider,
      base_url: f.baseUrl,
      model: f.model,
      timeout_ms: Math.round(Number(f.timeoutS) * 1000),
      retries: Number(f.retries),
      features: [...(f.reply ? (['reply'] as const) : []), ...(f.copilot ? (['copilot'] as const) : [])],
    };
    // Absent: the stored key stays; null removes it.
    if (f.apiKey) llm.api_key = f.apiKey;
    else if (f.removeKey) llm.api_key = null;
    await send(llm, 'Language model saved.');
  };

  const test = async () => {
    setTesting(true);
    setSaved(null);
    setTested(null);
    setError(null);
    const { data, problem: p } = await attempt(connectionTest.mutateAsync({}));
    setTesting(false);
    if (data) setTested(data);
    else setError(p.message);
  };

  const fieldError = (name: string) =>
    fields[`ai.llm.${name}`] ? (
      <p id={`llm-${name}-error`} className="field-error">
        {fields[`ai.llm.${name}`]}
      </p>
    ) : null;
  const described = (name: string) =>
    fields[`ai.llm.${name}`] ? { 'aria-invalid': true, 'aria-describedby': `llm-${name}-error` } : {};

  return (
    <section aria-labelledby="llm-title" className="llm">
      <h3 id="llm-title">Language model (optional)</h3>
      <p>
        Without one, everything the AI does runs on this server and nothing leaves it. With one, the features you choose send
        it what they need — the customer's message and the quoted sources, marked as data — and use its answer only when it
        is the JSON asked for and every sentence is backed by a source it cites; otherwise the offline result stands.
      </p>
      {f === null ? (
        <p role="status">Loading…</p>
      ) : (
        <form onSubmit={(e) => void save(e)} aria-label="Language model" noValidate>
          <label htmlFor="llm-provider">Server</label>
          <select id="llm-provider" value={f.provider} onChange={(e) => set({ provider: e.target.value as Provider })}>
            {Object.entries(PROVIDERS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          <label htmlFor="llm-base-url">Address</label>
          <input id="llm-base-url" type="url" value={f.baseUrl} onChange={(e) => set({ baseUrl: e.target.value })} {...described('base_url')} />
          {fieldError('base_url')}
          <label htmlFor="llm-model">Model</label>
          <input id="llm-model" value={f.model} onChange={(e) => set({ model: e.target.value })} {...described('model')} />
          {fieldError('model')}
          <label htmlFor="llm-api-key">API key {current?.api_key_set ? '(one is stored; type to replace it)' : '(optional)'}</label>
          <input
            id="llm-api-key"
            type="password"
            autoComplete="off"
            value={f.apiKey}
            onChange={(e) => set({ apiKey: e.target.value })}
            {...described('api_key')}
          />
          {fieldError('api_key')}
          {current?.api_key_set && (
            <label className="check">
              <input type="checkbox" checked={f.removeKey} onChange={(e) => set({ removeKey: e.target.checked })} /> Remove the
              stored key
            </label>
          )}
          <label htmlFor="llm-timeout">Timeout per attempt (seconds, 1 to 300)</label>
          <input
            id="llm-timeout"
            type="number"
            min={1}
            max={300}
            value={f.timeoutS}
            onChange={(e) => set({ timeoutS: e.target.value })}
            {...described('timeout_ms')}
          />
          {fieldError('timeout_ms')}
          <label htmlFor="llm-retries">Retries when it is unreachable, late or busy (0 to 5)</label>
          <input
            id="llm-retries"
            type="number"
            min={0}
            max={5}
            value={f.retries}
            onChange={(e) => set({ retries: e.target.value })}
            {...described('retries')}
          />
          {fieldError('retries')}
          <fieldset>
            <legend>Use it to</legend>
            <label className="check">
              <input type="checkbox" checked={f.reply} onChange={(e) => set({ reply: e.target.checked })} /> Word draft replies
              from their quotes
            </label>
            <label className="check">
              <input type="checkbox" checked={f.copilot} onChange={(e) => set({ copilot: e.target.checked })} /> Plan and word
              the copilot's answers (a sentence its sources do not back refuses the answer)
            </label>
          </fieldset>
          <div className="actions">
            <button type="submit">Save language model</button>
            {current && (
              <>
                <button type="button" onClick={() => void test()} disabled={testing}>
                  {testing ? 'Testing…' : 'Test the connection'}
                </button>
                <button type="button" onClick={() => void send(null, 'Language model removed.')}>
                  Remove the language model
                </button>
              </>
            )}
          </div>
        </form>
      )}
      <div aria-live="polite">
        {saved && <p role="status">{saved}</p>}
        {tested && (
          <p role="status" data-testid="llm-test">
            {tested.status === 'ok'
              ? `The model answered in ${tested.duration_ms} ms.`
              : `${OUTCOMES[tested.status]}: ${tested.error ?? ''} (${tested.attempts} ${tested.attempts === 1 ? 'attempt' : 'attempts'})`}
          </p>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {requests.isError ? <Failed error={requests.error} what="requests to the model" retry={() => void requests.refetch()} /> : <RequestLog rows={log} />}
    </section>
  );
}

function RequestLog({ rows }: { rows: LogRow[] | null }) {
  if (rows === null) return null;
  return (
    <div className="llm-log">
      <h4 id="llm-log-title">Requests to the model</h4>
      {rows.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <div className="scroll" role="region" aria-label="Requests to the model, scrollable" tabIndex={0}>
          <table aria-labelledby="llm-log-title">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">For</th>
                <th scope="col">Model</th>
                <th scope="col">Outcome</th>
                <th scope="col">Time</th>
                <th scope="col">Exchange</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-testid="llm-request">
                  <td>{new Date(r.created_at).toLocaleString()}</td>
                  <td>
                    {r.feature === 'reply'
                      ? `Draft, ticket #${r.ticket_id ?? '?'}`
                      : r.feature === 'copilot'
                        ? `Copilot${r.ticket_id ? `, ticket #${r.ticket_id}` : ''}`
                        : 'Connection test'}
                  </td>
                  <td>{r.model}</td>
                  <td>
                    {OUTCOMES[r.status]}
                    {r.error && <span className="why"> — {r.error}</span>}
                  </td>
                  <td>
                    {r.duration_ms} ms{r.attempts > 1 ? `, ${r.attempts} attempts` : ''}
                  </td>
                  <td>
                    <details>
                      <summary>Sent and received</summary>
                      <pre>{JSON.stringify(r.request, null, 2)}</pre>
                      <pre>{r.response ?? '(no answer)'}</pre>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
