// What the browser benchmarks share: the running suite's address and demo logins,
// Debian's Chromium as the browser tests drive it, signing in through the page or the
// API, and writing a result under ../target/bench.
import { chromium } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const base = process.env.ATUM_URL ?? 'http://127.0.0.1:8080';

/** The `n`th demo login of `role` (`ATUM_LOGINS`, lines of "role email password"). */
export function demoLogin(role, n = 0) {
  const logins = readFileSync(process.env.ATUM_LOGINS ?? 'var/demo-logins.txt', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '));
  const [, email, password] = logins.filter((l) => l[0] === role)[n];
  return { email, password };
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** Signs `page` in to the agent workspace and waits for its views. */
export async function signIn(page, { email, password }) {
  await page.goto('/app/');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Views' }).waitFor();
}

/** A session token for the API. */
export async function token({ email, password }) {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return (await res.json()).token;
}

/** Writes `result` to ../target/bench/`name`.json. */
export function writeResult(name, result) {
  const out = resolve(import.meta.dirname, '../../target/bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(resolve(out, `${name}.json`), JSON.stringify(result, null, 2));
}
