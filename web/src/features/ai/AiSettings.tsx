// The organisation's AI settings: triage thresholds, escalation rules, the language model, the trained models.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Failed, Pending } from '../../components/Failed';
import type { Schemas } from '../../lib/api';
import { $api, asProblem, attempt } from '../../lib/query';
import { useSaveSettings, useSettings } from '../../lib/settings';
import { Escalation } from './Escalation';
import { LanguageModel } from './LanguageModel';

type Training = Schemas['Training'];

/** While a training is queued or running, its state is asked for this often. */
const POLL_MS = 3_000;
const percent = (p: number) => `${(p * 100).toFixed(1)}%`;
const FIELD_NAMES: Record<Schemas['TriageField'], string> = { category: 'Category', priority: 'Priority' };

/**
 * The organisation's AI, for admins: how sure triage must be to show an answer and to
 * apply it, and the models learnt from the organisation's own tickets — how each did
 * on the tickets held back from it, or how much more history it needs.
 */
export default function AiSettings() {
  const [suggest, setSuggest] = useState('');
  const [apply, setApply] = useState('');
  const [never, setNever] = useState(false);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [rules, setRules] = useState<Schemas['EscalationRule'][] | null>(null);
  const [llm, setLlm] = useState<Schemas['EndpointView'] | null | undefined>(undefined);
  const heading = useRef<HTMLHeadingElement>(null);

  const show = (s: Schemas['OrgSettings']) => {
    setSuggest(String(s.ai.suggest_threshold));
    setApply(s.ai.apply_threshold === null || s.ai.apply_threshold === undefined ? '0.9' : String(s.ai.apply_threshold));
    setNever(s.ai.apply_threshold === null || s.ai.apply_threshold === undefined);
    setRules(s.ai.escalation);
    setLlm(s.ai.llm ?? null);
  };

  const settings = useSettings();
  const saveSettings = useSaveSettings();
  // A training in progress is followed until it is done.
  const triage = $api.useQuery('get', '/api/v1/ai/triage', undefined, {
    refetchInterval: (q) => (q.state.data?.training_pending ? POLL_MS : false),
  });
  const status = triage.data ?? null;
  const training = $api.useMutation('post', '/api/v1/ai/triage/train', { onSuccess: () => void triage.refetch() });

  useEffect(() => heading.current?.focus(), []);
  // The saved values fill the form when they arrive (and after a save, anywhere).
  useEffect(() => {
    if (settings.data) show(settings.data);
  }, [settings.data]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(null);
    setError(null);
    setFields({});
    const body = { ai: { suggest_threshold: Number(suggest), apply_threshold: never ? null : Number(apply) } };
    const { data, problem: p } = await attempt(saveSettings.mutateAsync({ body }));
    if (data) {
      setSaved('Saved.');
      return;
    }
    // What was typed stays: the errors are shown beside it.
    setFields(p.fields ?? {});
    setError(p.fields ? 'Some values need fixing.' : p.message);
  };

  const train = () => training.mutate({});

  return (
    <section className="ai-settings" aria-labelledby="ai-title">
      <h2 id="ai-title" ref={heading} tabIndex={-1}>
        AI settings
      </h2>
      <form onSubmit={(e) => void save(e)} aria-label="Triage thresholds" noValidate>
        <h3>Triage</h3>
        <p>
          A confidence of 0.9 means the model was right about nine times in ten on your own tickets it had not seen. Answers
          below the suggest threshold are not shown; at or above the apply threshold they are set on the ticket by the AI,
          in the ticket's history, and an agent can undo them.
        </p>
        <label htmlFor="suggest-threshold">Suggest from (0 to 1)</label>
        <input
          id="suggest-threshold"
          type="number"
          min={0}
          max={1}
          step={0.05}
          value={suggest}
          onChange={(e) => setSuggest(e.target.value)}
          aria-invalid={fields['ai.suggest_threshold'] ? true : undefined}
          aria-describedby={fields['ai.suggest_threshold'] ? 'suggest-error' : undefined}
        />
        {fields['ai.suggest_threshold'] && (
          <p id="suggest-error" className="field-error">
            {fields['ai.suggest_threshold']}
          </p>
        )}
        <label htmlFor="apply-threshold">Apply from (0 to 1)</label>
        <input
          id="apply-threshold"
          type="number"
          min={0}
          max={1}
          step={0.05}
          value={apply}
          disabled={never}
          onChange={(e) => setApply(e.target.value)}
          aria-invalid={fields['ai.apply_threshold'] ? true : undefined}
          aria-describedby={fields['ai.apply_threshold'] ? 'apply-error' : undefined}
        />
        {fields['ai.apply_threshold'] && (
          <p id="apply-error" className="field-error">
            {fields['ai.apply_threshold']}
          </p>
        )}
        <label className="check">
          <input type="checkbox" checked={never} onChange={(e) => setNever(e.target.checked)} /> Never apply: only suggest
        </label>
        <button type="submit">Save thresholds</button>
        {saved && <p role="status">{saved}</p>}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>

      {settings.isError && <Failed error={settings.error} what="settings" retry={() => void settings.refetch()} />}
      <Escalation rules={rules} />

      <LanguageModel endpoint={llm} />

      <section aria-labelledby="models-title">
        <h3 id="models-title">Models learnt from your tickets</h3>
        {status === null ? (
          <Pending query={triage} what="models" />
        ) : (
          <>
            {status.trainings.length === 0 && <p>No training yet.</p>}
            {status.trainings.map((t) => (
              <Model key={t.field} training={t} />
            ))}
            <p role="status">{status.training_pending ? 'A training is queued or running…' : ''}</p>
            <button type="button" onClick={train} disabled={status.training_pending || training.isPending}>
              Train now
            </button>
            {training.isError && (
              <p className="error" role="alert">
                The training was not queued: {asProblem(training.error).message}
              </p>
            )}
          </>
        )}
      </section>
    </section>
  );
}

function Model({ training: t }: { training: Training }) {
  const e = t.evaluation;
  return (
    <article className="model" data-testid={`model-${t.field}`} aria-label={`${FIELD_NAMES[t.field]} model`}>
      <h4>{FIELD_NAMES[t.field]}</h4>
      {t.status === 'too_little' && (
        <p>
          Not enough history: {t.examples} labelled tickets; {t.needed} more are needed, with at least two different values.
        </p>
      )}
      {t.status === 'failed' && <p>The last training failed: {t.detail}</p>}
      {t.status === 'ready' && e && (
        <>
          <p>
            Trained on {e.trained_on} of {t.examples} labelled tickets, {new Date(t.created_at).toLocaleString()}; checked on{' '}
            {e.examples} it never saw: <strong>accuracy {percent(e.accuracy)}</strong> (always answering “{e.majority_label}”
            would score {percent(e.majority_accuracy)}), macro-F1 {percent(e.macro_f1)}, calibration error {percent(e.ece)}.
          </p>
          <table>
            <caption>Answers at or above each confidence</caption>
            <thead>
              <tr>
                <th scope="col">Confidence</th>
                <th scope="col">Share of tickets</th>
                <th scope="col">Right</th>
              </tr>
            </thead>
            <tbody>
              {e.tiers.map((tier) => (
                <tr key={tier.threshold}>
                  <th scope="row">≥ {tier.threshold.toFixed(1)}</th>
                  <td>{percent(tier.coverage)}</td>
                  <td>{tier.coverage > 0 ? percent(tier.accuracy) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </article>
  );
}
