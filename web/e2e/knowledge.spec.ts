import { expect, test } from '@playwright/test';
import { accessible, bearer, person, signIn, token } from './support';

// A fresh suite indexes its demo tickets first (two minutes at most in a debug build):
// the tests wait for their own article's turn.
test.describe.configure({ timeout: 180_000 });

test('an agent writes an article with the server\'s preview, publishes it, edits it and reads what changed', async ({ page }) => {
  const title = `Reset a VPN token ${Date.now()}`;
  await signIn(page, person('agent', 0));
  await page.getByRole('button', { name: 'Knowledge base' }).click();
  await expect(page.getByRole('heading', { name: 'Knowledge base' })).toBeFocused();
  await page.getByRole('button', { name: 'New article' }).click();
  const editor = page.getByRole('form', { name: 'New article' });
  await editor.getByLabel('Title').fill(title);
  await editor.getByLabel('Visible to').selectOption('public');
  await editor.getByLabel('Tags').fill('vpn, remote');
  await editor.getByLabel('Body (Markdown)').fill('# Steps\n\n1. Open **Settings**\n2. Press Reset\n\n<script>window.hacked = 1</script>');
  // The preview is the server's rendering: Markdown becomes HTML, a script does not.
  await expect(page.getByTestId('preview').locator('strong')).toHaveText('Settings');
  await expect(page.getByTestId('preview').locator('script')).toHaveCount(0);
  await accessible(page, 'knowledge-editor');
  await editor.getByRole('button', { name: 'Publish' }).click();

  const body = page.getByTestId('article-body');
  await expect(body.locator('h1')).toHaveText('Steps');
  await expect(page.getByRole('article').locator('.badge').first()).toHaveText('published');
  expect(await page.evaluate(() => (window as unknown as { hacked?: number }).hacked)).toBeUndefined();
  await accessible(page, 'knowledge-article');

  await page.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: 'Edit article' });
  await expect(edit.getByLabel('Title')).toHaveValue(title);
  await edit.getByLabel('Body (Markdown)').fill('# Steps\n\n1. Open **Settings**\n2. Press Reset and confirm\n');
  await edit.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(body.locator('li').nth(1)).toHaveText('Press Reset and confirm');

  await page.getByRole('button', { name: /History \(2\)/ }).click();
  await page.getByRole('button', { name: /^Version 2:/ }).click();
  const diff = page.getByTestId('diff');
  await expect(diff.locator('ins')).toContainText('2. Press Reset and confirm');
  await expect(diff.locator('del').first()).toHaveText('- 2. Press Reset\n');
  await accessible(page, 'knowledge-history');

  // Searching finds it once the retrieval worker has indexed the edit, with the match
  // highlighted and the retrievers that found it named.
  await page.getByRole('button', { name: '← Back to the article' }).click();
  const search = page.getByLabel('Search articles and solved tickets');
  const results = page.getByRole('list', { name: 'Search results' });
  await expect(async () => {
    await search.fill('');
    await search.fill('press reset and confirm');
    await expect(results.getByRole('button', { name: new RegExp(title) }).first()).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 120_000 });
  const hit = results.getByRole('button', { name: new RegExp(title) }).first();
  await expect(hit.locator('mark').first()).toBeVisible();
  await expect(hit).toContainText('full text');
  await accessible(page, 'knowledge-search');
  await hit.click();
  await expect(page.getByTestId('article-body').locator('li').nth(1)).toHaveText('Press Reset and confirm');
});

test('a ticket shows the articles that answer it, and one opens in place', async ({ page, request }) => {
  const t = await token(request, person('agent', 0));
  const stamp = Date.now();
  const title = `Flickering monitor ${stamp}`;
  const article = await request.post('/api/v1/kb/articles', {
    headers: bearer(t),
    data: { title, body: '# Fix\n\nReplace the **DisplayPort** cable and lower the refresh rate.', publish: true },
  });
  expect(article.status()).toBe(201);
  const ticket = await request.post('/api/v1/tickets', {
    headers: bearer(t),
    data: { subject: 'My monitor keeps flickering', description: 'The screen flickers every few seconds since Monday.' },
  });
  expect(ticket.status()).toBe(201);
  const id = (await ticket.json()).id;

  await signIn(page, person('agent', 0));
  const panel = page.getByRole('list', { name: 'Articles for this ticket' });
  // The panel asks once per ticket: reload until the worker has indexed the article.
  await expect(async () => {
    await page.goto(`/app/tickets/${id}`);
    await expect(panel.getByText(title).first()).toBeVisible({ timeout: 1500 });
  }).toPass({ timeout: 120_000 });
  await panel.getByText(title).first().click();
  await expect(panel.locator('.markdown strong').first()).toHaveText('DisplayPort');
  await accessible(page, 'ticket-articles');
});

test('anyone finds a published public article in the help center without signing in, and nothing internal', async ({ browser, request }) => {
  const t = await token(request, person('agent', 0));
  const stamp = Date.now();
  for (const [title, visibility] of [
    [`Printer offline ${stamp}`, 'public'],
    [`Printer escalation ${stamp}`, 'internal'],
  ]) {
    const res = await request.post('/api/v1/kb/articles', {
      headers: bearer(t),
      data: { title, body: `When the printer shows **offline** (${stamp}), restart it.`, visibility, publish: true },
    });
    expect(res.status()).toBe(201);
  }
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/help/demo/');
  await page.getByLabel('Search the help articles').fill(`${stamp}`);
  const hits = page.getByRole('main').getByRole('list').getByRole('link');
  await expect(hits).toHaveCount(1);
  await expect(hits).toHaveText(`Printer offline ${stamp}`);
  await accessible(page, 'help-search');
  await hits.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Printer offline ${stamp}`);
  await expect(page.locator('.markdown strong')).toHaveText('offline');
  await expect(page).toHaveURL(/\/help\/demo\/articles\/\d+$/);
  await accessible(page, 'help-article');
  await page.goto('/help/nobody/');
  await expect(page.getByRole('heading', { name: 'No such help center' })).toBeVisible();
  await context.close();
});
