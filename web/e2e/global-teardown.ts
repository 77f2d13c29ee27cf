import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { VAR } from './global-setup';

// SIGTERM to `atum up`: it stops its children and the private cluster, and waits.
export default async function globalTeardown() {
  try {
    process.kill(Number(readFileSync(resolve(VAR, 'fake-llm.pid'), 'utf8')), 'SIGTERM');
  } catch {
    // Not started, or gone already.
  }
  const pid = Number(readFileSync(resolve(VAR, 'atum-up.pid'), 'utf8'));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.kill(pid, 'SIGKILL');
}
