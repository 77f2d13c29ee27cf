// Opening a ticket with 20,000 messages against one with 20: from navigation to the
// frame in which the newest message is on screen, and the page's JavaScript heap
// (after a garbage collection) and DOM nodes once it is. Runs against a running suite
// with its demo logins, in the same Chromium as the browser tests:
//
//   ATUM_URL=http://127.0.0.1:8080 ATUM_LOGINS=var/demo-logins.txt npm --prefix web run long-thread
//
// Writes both tickets' messages through the API (the first run takes a minute), opens
// each ROUNDS times in alternation, prints medians and their ratio and writes them to
// ../target/bench/long-thread.json.
import { base, demoLogin, launch, signIn, token as apiToken, writeResult } from './suite.mjs';

const rounds = Number(process.env.ROUNDS ?? 7);
const agent = demoLogin('agent');
const token = await apiToken(agent);
const call = async (method, path, body) => {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
};

/** A ticket with `n` messages, made once and found again by its subject on later runs. */
async function thread(n) {
  const subject = `Benchmark thread of ${n} messages`;
  const found = await call('GET', `/tickets?q=${encodeURIComponent(`"${subject}"`)}&limit=1`);
  let ticket = found.items.find((t) => t.subject === subject);
  ticket ??= await call('POST', '/tickets', { subject, description: 'Measured by web/scripts/long-thread.mjs.' });
  let have = (await call('GET', `/tickets/${ticket.id}/comments?limit=1`)).total;
  // Four writers at a time: each reply takes the ticket's row lock in turn.
  while (have < n) {
    const batch = Math.min(4, n - have);
    await Promise.all(
      Array.from({ length: batch }, (_, i) => call('POST', `/tickets/${ticket.id}/comments`, { body: `Automatic message ${have + i + 1}` })),
    );
    have += batch;
    if (have % 2000 < batch) console.log(`  ${subject}: ${have}`);
  }
  return ticket.id;
}

const small = await thread(20);
const large = await thread(20_000);
const newest = async (id) => (await call('GET', `/tickets/${id}/comments?order=newest&limit=1`)).items[0].body;
const last = { [small]: await newest(small), [large]: await newest(large) };

const browser = await launch();
const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
await signIn(page, agent);
const cdp = await context.newCDPSession(page);
await cdp.send('Performance.enable');

async function open(id) {
  await page.goto('about:blank');
  const started = Date.now();
  await page.goto(`/app/tickets/${id}`);
  const message = page.getByTestId('comment').filter({ hasText: last[id] }).last();
  await message.waitFor();
  // The frame after the one that put it in the DOM has painted it.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const shown = Date.now() - started;
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const metric = (name) => metrics.find((m) => m.name === name)?.value ?? 0;
  return { shown, heap: metric('JSHeapUsedSize') / 1024 / 1024, nodes: metric('Nodes') };
}

const samples = { [small]: [], [large]: [] };
await open(small); // warms the browser's cache of the app's code
for (let r = 0; r < rounds; r += 1) {
  for (const id of r % 2 === 0 ? [small, large] : [large, small]) samples[id].push(await open(id));
}
await browser.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (id) => ({
  shown_ms: median(samples[id].map((s) => s.shown)),
  heap_mb: Number(median(samples[id].map((s) => s.heap)).toFixed(1)),
  dom_nodes: median(samples[id].map((s) => s.nodes)),
});
const result = { rounds, messages_20: summary(small), messages_20000: summary(large) };
result.ratio = {
  shown: Number((result.messages_20000.shown_ms / result.messages_20.shown_ms).toFixed(2)),
  heap: Number((result.messages_20000.heap_mb / result.messages_20.heap_mb).toFixed(2)),
};
console.log(JSON.stringify(result, null, 2));
writeResult('long-thread', result);
