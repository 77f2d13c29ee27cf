import AxeBuilder from '@axe-core/playwright';
import { type APIRequestContext, type Page, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

export interface Login {
  role: string;
  email: string;
  password: string;
}

/** The demo organisation's people, as `atum up` seeded them. */
export function logins(): Login[] {
  return (process.env.ATUM_E2E_LOGINS ?? '')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [role, email, password] = line.split(' ');
      return { role, email, password };
    });
}

export const person = (role: string, n = 0): Login => logins().filter((l) => l.role === role)[n];

/** A bearer token for setting things up through the API. */
export async function token(request: APIRequestContext, who: Login): Promise<string> {
  const res = await request.post('/api/v1/auth/login', { data: { email: who.email, password: who.password } });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).token as string;
}

export const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

/** A TOTP code from oathtool (an independent authenticator), `ahead` steps from now. */
export function totp(secret: string, ahead = 0): string {
  const args = ['--totp', '-b', secret];
  if (ahead) args.push('-N', `now + ${ahead * 30} seconds`);
  return execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
}

/** Signs in through the form. */
export async function signIn(page: Page, who: Login) {
  await page.goto('/app/');
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Views' })).toBeVisible();
}

/** Opens a section of the admin console from the rail. */
export async function openAdmin(page: Page, section: string) {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Administration' }).click();
  await expect(page.getByRole('heading', { name: 'Administration', level: 1 })).toBeVisible();
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('button', { name: section }).click();
}

const SHOTS = resolve(import.meta.dirname, '../../target/e2e/screenshots');

/** Axe finds no violation on the page as it is; a screenshot is kept as an artifact. */
export async function accessible(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SHOTS, `${name}.png`), fullPage: true });
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const found = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect(found, `axe on ${name}`).toEqual([]);
}

const VAR = resolve(import.meta.dirname, '../../target/e2e/var');

/** Runs SQL on the suite's private cluster (test fixtures the API has no bulk route for). */
export function sql(statement: string) {
  const port = readFileSync(resolve(VAR, 'pg/data/postmaster.pid'), 'utf8').split('\n')[3].trim();
  const password = readFileSync(resolve(VAR, 'pg/password'), 'utf8').trim();
  const psql = process.env.PSQL ?? '/usr/lib/postgresql/15/bin/psql';
  execFileSync(psql, ['-h', '127.0.0.1', '-p', port, '-U', 'atum', '-d', 'atum', '-v', 'ON_ERROR_STOP=1', '-c', statement], {
    env: { ...process.env, PGPASSWORD: password },
    encoding: 'utf8',
  });
}

/**
 * Publishes a public article as `admin` and waits until the dense retriever finds it
 * for `query` (the retrieval worker chunks and embeds it within seconds): a draft or
 * the copilot can quote it after. Its id.
 */
export async function publishIndexed(request: APIRequestContext, admin: string, title: string, body: string, query: string) {
  const made = await request.post('/api/v1/kb/articles', {
    headers: bearer(admin),
    data: { title, visibility: 'public', publish: true, body },
  });
  expect(made.status(), await made.text()).toBe(201);
  const article = (await made.json()).id as number;
  await expect
    .poll(
      async () => {
        const hits = await (
          await request.get(`/api/v1/kb/search?q=${encodeURIComponent(query)}&retrievers=dense`, { headers: bearer(admin) })
        ).json();
        return hits.items.some((h: { id: number; source: string }) => h.source === 'article' && h.id === article);
      },
      { timeout: 60_000, intervals: [500] },
    )
    .toBe(true);
  return article;
}

const MAIL = resolve(VAR, 'mail');

/** Quoted-printable, as lettre writes a long line: soft breaks joined, `=XX` decoded. */
function unquote(text: string): string {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The mails the job worker wrote to `to` with `subject` (the suite has no SMTP relay:
 * mail is `.eml` files under its mail directory), newest first, decoded; waited for
 * until there are `atLeast`.
 */
export async function mailsTo(to: string, subject: string, atLeast = 1): Promise<string[]> {
  let found: string[] = [];
  await expect
    .poll(
      () => {
        const files = existsSync(MAIL) ? readdirSync(MAIL).filter((f) => f.endsWith('.eml')) : [];
        found = files
          .map((f) => ({ at: statSync(resolve(MAIL, f)).mtimeMs, name: f, text: unquote(readFileSync(resolve(MAIL, f), 'utf8')) }))
          .filter((m) => m.text.split('\n').some((l) => l.startsWith('To:') && l.includes(to)) && m.text.includes(`Subject: ${subject}`))
          // The file name starts with the time it was written, to the millisecond.
          .sort((a, b) => b.at - a.at || b.name.localeCompare(a.name))
          .map((m) => m.text);
        return found.length;
      },
      { timeout: 30_000, intervals: [250] },
    )
    .toBeGreaterThanOrEqual(atLeast);
  return found;
}

/** The newest mail to `to` with `subject`, waited for, decoded. */
export async function mailTo(to: string, subject: string): Promise<string> {
  return (await mailsTo(to, subject))[0];
}

/** The path and query of the one link in a mail that goes to `path`. */
export function linkIn(mail: string, path: string): string {
  const m = new RegExp(`https?://[^/\\s]+(${path}\\?token=[0-9a-f]{64})`).exec(mail);
  expect(m, `a ${path} link in:\n${mail}`).not.toBeNull();
  return (m as RegExpExecArray)[1];
}
