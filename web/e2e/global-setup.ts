// Starts the real suite (`atum up`: a private PostgreSQL, the API serving this UI's
// build, the workers) on 127.0.0.1 for the browser tests, and waits until it is up.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const VAR = resolve(ROOT, 'target/e2e/var');
const PORT = 18180;
/** The fake language model server (`atum-fake-llm`), for the tests of the optional LLM. */
export const FAKE_LLM = 'http://127.0.0.1:18190';

export default async function globalSetup() {
  rmSync(VAR, { recursive: true, force: true });
  mkdirSync(VAR, { recursive: true });
  const log = resolve(VAR, 'atum-up.log');
  const out = openSync(log, 'w');
  const env = {
    ...process.env,
    ATUM_API_LISTEN: `127.0.0.1:${PORT}`,
    ATUM_JOB_WORKER_LISTEN: `127.0.0.1:${PORT + 1}`,
    ATUM_SLA_WORKER_LISTEN: `127.0.0.1:${PORT + 2}`,
    ATUM_RAG_WORKER_LISTEN: `127.0.0.1:${PORT + 3}`,
    ATUM_METRICS_WORKER_LISTEN: `127.0.0.1:${PORT + 4}`,
    ATUM_PUBLIC_URL: `http://127.0.0.1:${PORT}`,
    // Every test signs in from 127.0.0.1, often as the same demo agent: the sign-in
    // rate limits (tested in the API's own tests) would otherwise refuse the suite.
    ATUM_AUTH_RATE_PER_MINUTE: '6000',
    ATUM_AUTH_RATE_BURST: '1000',
    ATUM_AUTH_ACCOUNT_RATE_PER_MINUTE: '6000',
    ATUM_AUTH_ACCOUNT_RATE_BURST: '1000',
  };
  const child = spawn(resolve(ROOT, 'target/debug/atum'), ['up', '--var-dir', VAR, '--web', resolve(ROOT, 'web')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', out, out],
    detached: true,
  });
  writeFileSync(resolve(VAR, 'atum-up.pid'), String(child.pid));
  const fake = spawn(resolve(ROOT, 'target/debug/atum-fake-llm'), [new URL(FAKE_LLM).host], {
    stdio: ['ignore', openSync(resolve(VAR, 'fake-llm.log'), 'w'), 'inherit'],
    detached: true,
  });
  writeFileSync(resolve(VAR, 'fake-llm.pid'), String(fake.pid));
  const deadline = Date.now() + 120_000;
  while (!readFileSync(log, 'utf8').includes('ATUM Desk is up')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`atum up did not start:\n${readFileSync(log, 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  process.env.ATUM_E2E_URL = `http://127.0.0.1:${PORT}`;
  process.env.ATUM_E2E_LOGINS = readFileSync(resolve(VAR, 'demo-logins.txt'), 'utf8');
}
