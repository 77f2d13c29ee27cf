// How long a change by one agent takes to show in another agent's open list: from
// the API's 201 (the change is committed by then) to the animation frame in which the
// new row is in the other browser's DOM. Runs against a running suite with its demo
// logins, in the same Chromium as the browser tests:
//
//   ATUM_URL=http://127.0.0.1:8080 ATUM_LOGINS=var/demo-logins.txt npm run live-latency
//
// Prints p50/p95 and writes them to ../target/bench/live-latency.json.
import { base, demoLogin, launch, signIn, token as apiToken, writeResult } from './suite.mjs';

const rounds = Number(process.env.ROUNDS ?? 40);

const browser = await launch();
const page = await (await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } })).newPage();
await signIn(page, demoLogin('agent', 1));
await page.getByRole('listbox').getByRole('option').first().waitFor();

const token = await apiToken(demoLogin('agent', 0));

const samples = [];
for (let i = 0; i < rounds; i += 1) {
  const subject = `Latency probe ${Date.now()}-${i}`;
  // The page notes the wall-clock time of the first frame showing the row.
  const painted = page.evaluate(
    (s) =>
      new Promise((done) => {
        const seen = () => [...document.querySelectorAll('[role="option"]')].some((o) => o.textContent?.includes(s));
        const observer = new MutationObserver(() => {
          if (seen()) {
            observer.disconnect();
            requestAnimationFrame(() => done(Date.now()));
          }
        });
        observer.observe(document.body, { childList: true, subtree: true, characterData: true });
      }),
    subject,
  );
  const res = await fetch(`${base}/api/v1/tickets`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ subject, description: 'probe' }),
  });
  const committed = Date.now();
  if (res.status !== 201) throw new Error(`create answered ${res.status}`);
  samples.push((await painted) - committed);
  await new Promise((r) => setTimeout(r, 200));
}
await browser.close();

samples.sort((a, b) => a - b);
const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
const figures = { rounds, p50_ms: at(0.5), p95_ms: at(0.95), max_ms: samples.at(-1) };
console.log(`commit to paint in another agent's list: p50 ${figures.p50_ms} ms, p95 ${figures.p95_ms} ms, max ${figures.max_ms} ms (${rounds} changes)`);
writeResult('live-latency', figures);
