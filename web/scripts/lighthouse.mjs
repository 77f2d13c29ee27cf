// Lighthouse (npm, pinned in package.json) on the landing page and the sign-in page,
// driving the same Chromium as the browser tests, against a running suite:
//
//   ATUM_URL=http://127.0.0.1:8080 npm run lighthouse
//
// Prints the category scores and writes them to ../target/bench/lighthouse.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const base = process.env.ATUM_URL ?? 'http://127.0.0.1:8080';
const out = resolve(import.meta.dirname, '../../target/bench');
mkdirSync(out, { recursive: true });
const results = {};
for (const [name, path] of [
  ['landing', '/'],
  ['sign-in', '/app/'],
]) {
  const report = resolve(out, `lighthouse-${name}.json`);
  execFileSync(
    resolve(import.meta.dirname, '../node_modules/.bin/lighthouse'),
    [
      `${base}${path}`,
      '--quiet',
      '--output=json',
      `--output-path=${report}`,
      '--only-categories=performance,accessibility,best-practices',
      '--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage',
    ],
    { env: { ...process.env, CHROME_PATH: process.env.CHROMIUM ?? '/usr/bin/chromium' }, stdio: 'inherit' },
  );
  const lhr = JSON.parse(readFileSync(report, 'utf8'));
  results[name] = Object.fromEntries(Object.entries(lhr.categories).map(([k, c]) => [k, Math.round(c.score * 100)]));
  console.log(`${name.padEnd(8)} ${Object.entries(results[name]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
writeFileSync(resolve(out, 'lighthouse.json'), JSON.stringify(results, null, 2));
