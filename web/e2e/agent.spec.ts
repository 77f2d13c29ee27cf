import { expect, test } from '@playwright/test';
import { accessible, bearer, person, signIn, token, totp } from './support';

test('the landing page works without JavaScript and leads to sign-in', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('help desk');
  expect(await page.locator('script').count()).toBe(0);
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/app\/$/);
  await context.close();
  // Axe runs as a script in the page: checked with JavaScript on.
  const scripted = await browser.newContext();
  const checked = await scripted.newPage();
  await checked.goto('/');
  await accessible(checked, 'landing');
  await scripted.close();
});

test('an agent with two-factor authentication signs in with a code from an authenticator', async ({ page, request }) => {
  const admin = await token(request, person('admin'));
  const agent = { role: 'agent', email: `totp-${Date.now()}@demo.atum.test`, password: 'correct horse battery staple' };
  const created = await request.post('/api/v1/users', {
    headers: bearer(admin),
    data: { email: agent.email, display_name: 'Tessa Totp', role: 'agent', password: agent.password },
  });
  expect(created.status(), await created.text()).toBe(201);
  const own = await token(request, agent);
  const enrol = await (await request.post('/api/v1/auth/mfa/totp', { headers: bearer(own) })).json();
  const confirm = await request.post('/api/v1/auth/mfa/totp/confirm', { headers: bearer(own), data: { code: totp(enrol.secret) } });
  expect(confirm.status(), await confirm.text()).toBe(200);

  await page.goto('/app/');
  await accessible(page, 'sign-in');
  await page.getByLabel('E-mail').fill(agent.email);
  await page.getByLabel('Password').fill('wrong password, surely');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Wrong e-mail or password');
  await page.getByLabel('Password').fill(agent.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const code = page.getByLabel(/Code from your authenticator app/);
  await expect(code).toBeFocused();
  await accessible(page, 'sign-in-code');
  // The confirming code's step is spent: the next one is still inside the window.
  await code.fill(totp(enrol.secret, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('navigation', { name: 'Views' })).toBeVisible();
  await expect(page.getByText('Tessa Totp')).toBeVisible();
});

test('an agent works a ticket from the list to "send and next", with the keyboard', async ({ page }) => {
  await signIn(page, person('agent'));
  const list = page.getByRole('listbox', { name: 'All open' });
  await expect(list.getByRole('option').first()).toBeVisible();
  await page.keyboard.press('j');
  await expect(page).toHaveURL(/\/app\/tickets\/\d+$/);
  const first = page.url();
  await expect(page.getByRole('heading', { level: 2 })).toBeFocused();
  await accessible(page, 'workspace-ticket');
  await page.keyboard.press('r');
  const composer = page.getByLabel('Reply to the customer');
  await expect(composer).toBeFocused();
  await composer.fill('We have found the cause and a fix is on its way.');
  await page.reload();
  await expect(page.getByLabel('Reply to the customer')).toHaveValue('We have found the cause and a fix is on its way.');
  await page.getByLabel('Reply to the customer').press('Control+Shift+Enter');
  await expect(page).not.toHaveURL(first);
  await page.goBack();
  await expect(page.getByTestId('comment').last()).toContainText('a fix is on its way');
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await accessible(page, 'shortcuts');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
});

test('a reply by one agent appears in another agent\'s open ticket without a reload', async ({ browser, request }) => {
  const [ada, grace] = [person('agent', 0), person('agent', 1)];
  const adaPage = await (await browser.newContext()).newPage();
  const gracePage = await (await browser.newContext()).newPage();
  await signIn(adaPage, ada);
  await signIn(gracePage, grace);
  const t = await token(request, ada);
  const ticket = await (
    await request.post('/api/v1/tickets', { headers: bearer(t), data: { subject: 'Live update check', description: 'watch me' } })
  ).json();
  // The new ticket shows in grace's open list by itself.
  await expect(gracePage.getByRole('option', { name: /Live update check/ })).toBeVisible();
  await gracePage.goto(`/app/tickets/${ticket.id}`);
  await adaPage.goto(`/app/tickets/${ticket.id}`);
  await adaPage.getByLabel('Reply to the customer').fill('Seen live by Grace');
  await adaPage.getByRole('button', { name: /^Send \(/ }).click();
  await expect(gracePage.getByTestId('comment').filter({ hasText: 'Seen live by Grace' })).toBeVisible();
  await expect(gracePage.getByText(/This ticket was just updated by/)).toBeVisible();
});

test('a locked ticket keeps the second agent\'s reply until they take it over', async ({ page, request }) => {
  const grace = await token(request, person('agent', 1));
  const ticket = await (
    await request.post('/api/v1/tickets', { headers: bearer(grace), data: { subject: 'Lock check', description: 'mine for now' } })
  ).json();
  const lock = await request.post(`/api/v1/tickets/${ticket.id}/lock`, { headers: bearer(grace) });
  expect(lock.status()).toBe(200);

  await signIn(page, person('agent', 0));
  await page.goto(`/app/tickets/${ticket.id}`);
  await expect(page.getByTestId('lock-holder')).toBeVisible();
  await expect(page.locator(`#ticket-${ticket.id}`).getByTestId('on-ticket')).toHaveAttribute('title', /is answering/);
  const composer = page.getByLabel('Reply to the customer');
  await composer.fill('My reply must not be lost');
  await page.getByRole('button', { name: /^Send \(/ }).click();
  await expect(page.getByRole('alert')).toContainText('Someone else is working on this ticket');
  await expect(composer).toHaveValue('My reply must not be lost');
  await page.getByRole('button', { name: /Take over from/ }).click();
  await page.getByRole('button', { name: /^Send \(/ }).click();
  await expect(page.getByTestId('comment').filter({ hasText: 'My reply must not be lost' })).toBeVisible();
});

test('an agent files a new ticket and finds it by search, whatever the sort', async ({ page }) => {
  await signIn(page, person('agent'));
  await page.getByRole('button', { name: 'New ticket' }).click();
  await expect(page.getByRole('heading', { name: 'New ticket' })).toBeFocused();
  await accessible(page, 'new-ticket');
  await page.getByLabel('Subject').fill('Caller cannot print invoices');
  await page.getByLabel('Description').fill('Phoned in at 9:12; the printer shows error 0x51.');
  await page.getByRole('combobox', { name: 'Priority', exact: true }).selectOption('high');
  await page.getByRole('button', { name: 'Create ticket' }).click();
  await expect(page).toHaveURL(/\/app\/tickets\/\d+$/);
  await expect(page.getByRole('heading', { level: 2 })).toContainText('Caller cannot print invoices');
  await expect(page.getByRole('combobox', { name: 'Priority', exact: true })).toHaveValue('high');

  const list = page.getByRole('listbox', { name: 'All open' });
  await page.getByLabel('Search tickets').fill('invoices printer');
  await expect(list.getByRole('option', { name: /Caller cannot print invoices/ })).toBeVisible();
  await page.getByLabel('Sort').selectOption('-updated_at');
  await expect(list.getByRole('option').first()).toContainText('Caller cannot print invoices');
});

test('agents see who else has a ticket open and who is typing, gone as soon as the tab closes', async ({ browser, request }) => {
  const t = await token(request, person('agent', 0));
  const ticket = await (
    await request.post('/api/v1/tickets', { headers: bearer(t), data: { subject: 'Presence check', description: 'who is here?' } })
  ).json();
  const adaContext = await browser.newContext();
  const graceContext = await browser.newContext();
  const ada = await adaContext.newPage();
  const grace = await graceContext.newPage();
  await signIn(ada, person('agent', 0));
  await signIn(grace, person('agent', 1));
  await ada.goto(`/app/tickets/${ticket.id}`);
  await grace.goto(`/app/tickets/${ticket.id}`);

  const others = ada.getByRole('list', { name: 'Also on this ticket' }).getByTestId('viewer');
  await expect(others).toHaveCount(1);
  await expect(others.first()).toHaveAttribute('title', /is viewing/);
  // The list's row says so too.
  const row = ada.locator(`#ticket-${ticket.id}`).getByTestId('on-ticket');
  await expect(row).toHaveAttribute('title', /is viewing/);
  await grace.getByLabel('Reply to the customer').pressSequentially('Looking into it');
  await expect(others.first()).toHaveAttribute('title', /is typing/);
  await expect(ada.getByText(/is typing…/)).toBeVisible();
  await expect(row).toHaveAttribute('title', /is typing/);

  await grace.close();
  await expect(others).toHaveCount(0, { timeout: 5_000 });
  await expect(row).toHaveCount(0, { timeout: 5_000 });
  await adaContext.close();
  await graceContext.close();
});

test('the rail counts each view and follows new tickets live', async ({ page, request }) => {
  await signIn(page, person('agent', 1));
  const unassigned = page.getByTestId('count-unassigned');
  await expect(unassigned).toHaveText(/^\d+$/);
  const before = Number(await unassigned.textContent());
  const t = await token(request, person('agent', 0));
  const res = await request.post('/api/v1/tickets', { headers: bearer(t), data: { subject: 'Counted live', description: '' } });
  expect(res.status()).toBe(201);
  // Other tests' changes may land too: at least this one must be counted.
  await expect.poll(async () => Number(await unassigned.textContent())).toBeGreaterThanOrEqual(before + 1);
});

test('without the event stream the list polls, answered by 304s until something changes', async ({ page, request }) => {
  await page.route('**/api/v1/events', (route) => route.abort());
  const answers: number[] = [];
  page.on('response', (r) => {
    if (/\/api\/v1\/tickets\?/.test(r.url())) answers.push(r.status());
  });
  await signIn(page, person('agent', 1));
  await expect.poll(() => answers.filter((s) => s === 304).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
  const t = await token(request, person('agent', 0));
  await request.post('/api/v1/tickets', { headers: bearer(t), data: { subject: 'Found by polling', description: '' } });
  await expect(page.getByRole('option', { name: /Found by polling/ })).toBeVisible({ timeout: 30_000 });
});
