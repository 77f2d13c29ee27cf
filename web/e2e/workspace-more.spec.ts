import { expect, test } from '@playwright/test';
import { resolve } from 'node:path';
import { accessible, bearer, person, signIn, token } from './support';

test('an agent assigns and tags a ticket and reads who did what in its history', async ({ page, request }) => {
  const t = await token(request, person('agent', 0));
  const ticket = await (
    await request.post('/api/v1/tickets', { headers: bearer(t), data: { subject: 'Assign me', description: '' } })
  ).json();
  await signIn(page, person('agent', 0));
  await page.goto(`/app/tickets/${ticket.id}`);
  const grace = person('agent', 1);
  const assignee = page.getByLabel('Assignee');
  const graceOption = assignee.locator('option').filter({ hasText: /grace/i });
  await expect(graceOption).toHaveCount(1);
  // Each change is sent with the version the last one returned: wait for it.
  const assigned = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.status() === 200);
  await assignee.selectOption({ label: (await graceOption.textContent()) ?? '' });
  await assigned;
  await expect(assignee).not.toHaveValue('');
  const tagged = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.status() === 200);
  await page.getByLabel('Tags').fill('printer, billing');
  await page.getByLabel('Tags').blur();
  // The history is read when its tab opens: open it once the tags are saved.
  await tagged;
  await page.getByRole('tab', { name: 'History' }).click();
  const events = page.getByTestId('history-event');
  await expect(events.filter({ hasText: 'updated' })).toHaveCount(2);
  // Newest first: the ticket's creation is the last entry.
  await expect(events.last()).toContainText('created');
  await accessible(page, 'ticket-history');
  const saved = await (await request.get(`/api/v1/tickets/${ticket.id}`, { headers: bearer(t) })).json();
  expect(saved.tags).toEqual(['printer', 'billing']);
  const users = await (await request.get('/api/v1/users', { headers: bearer(t) })).json();
  const graceId = users.items.find((u: { email: string }) => u.email === grace.email).id;
  expect(saved.assignee_id).toBe(graceId);
});

test('Ctrl+K opens the command palette, which takes you where you type', async ({ page }) => {
  await signIn(page, person('agent', 0));
  const palette = page.getByRole('dialog', { name: 'Command palette' });
  await expect(async () => {
    await page.keyboard.press('Control+k');
    await expect(palette).toBeVisible({ timeout: 1_000 });
  }).toPass();
  await expect(page.getByLabel('Go to or do')).toBeFocused();
  await accessible(page, 'palette');
  await page.keyboard.type('dash');
  await expect(palette.getByRole('option')).toHaveCount(1);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
});

test('the workspace fits a 390-pixel phone screen', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await signIn(page, person('agent', 0));
  await expect(page.getByTestId('ticket-list').getByRole('option').first()).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await accessible(page, 'phone-workspace');
  // On a phone the open ticket takes the list's place, with a way back.
  await page.getByTestId('ticket-list').getByRole('option').first().click();
  await expect(page.getByTestId('ticket-list')).toBeHidden();
  await expect(page.getByRole('heading', { level: 2 })).toBeVisible();
  await accessible(page, 'phone-ticket');
  await page.getByRole('button', { name: /Back to the list/ }).click();
  await expect(page.getByTestId('ticket-list')).toBeVisible();
  await context.close();
});

test('an agent routes a ticket to a group, filters the list by it, and sees its SLA clocks count down and pause', async ({ page, request }) => {
  const admin = await token(request, person('admin', 0));
  const group = await (await request.post('/api/v1/admin/groups', { headers: bearer(admin), data: { name: `Tier 2 ${Date.now()}` } })).json();
  const policy = await request.post('/api/v1/admin/sla/policies', {
    headers: bearer(admin),
    data: { name: `E2E ${Date.now()}`, categories: ['e2e-sla'], first_response_minutes: 120, resolution_minutes: 600 },
  });
  expect(policy.status(), await policy.text()).toBe(201);
  const t = await token(request, person('agent', 0));
  const ticket = await (
    await request.post('/api/v1/tickets', { headers: bearer(t), data: { subject: 'Route me', description: '', category: 'e2e-sla' } })
  ).json();

  await signIn(page, person('agent', 0));
  await page.goto(`/app/tickets/${ticket.id}`);
  const first = page.getByTestId('clock-first_response');
  await expect(first).toContainText(/First response 1h 59m left/);
  const resolution = page.getByTestId('clock-resolution');
  // The countdown ticks in the browser, not only when the ticket is reloaded.
  await expect(resolution).toContainText(/9h 59m left/);

  const routed = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.status() === 200);
  await page.getByRole('combobox', { name: 'Group', exact: true }).selectOption({ label: group.name });
  await routed;
  const paused = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.status() === 200);
  await page.getByLabel('Status').selectOption('pending');
  await paused;
  await expect(resolution).toContainText(/paused, 9h 59m left|paused, 10h 00m left/);
  await expect(first).toContainText(/paused/);

  await page.getByText('Filters', { exact: true }).click();
  await page.getByLabel('Filter by group').selectOption({ label: group.name });
  const list = page.getByTestId('ticket-list');
  await expect(list).toHaveAttribute('data-count', '1');
  await expect(list.getByRole('option')).toContainText('Route me');
  await accessible(page, 'workspace-filters');
  await page.getByLabel('Filter by priority').selectOption('urgent');
  await expect(page.getByText('No ticket in this view matches the search and filters.')).toBeVisible();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect(list).not.toHaveAttribute('data-count', '1');
});

test('beside the ticket an agent sees who asked and opens their other tickets from the keyboard; a wide screen shows the reply box beside them', async ({
  browser,
  request,
}) => {
  const t = await token(request, person('agent', 0));
  const customer = person('customer');
  const me = await (await request.get('/api/v1/me', { headers: bearer(await token(request, customer)) })).json();
  const open = async (subject: string) => {
    const res = await request.post('/api/v1/tickets', {
      headers: bearer(t),
      data: { subject, description: 'Asked for the requester panel test.', requester_id: me.user.id },
    });
    expect(res.status(), await res.text()).toBe(201);
    return res.json();
  };
  const earlier = await open(`Earlier question ${Date.now()}`);
  const current = await open(`Current question ${Date.now()}`);

  const context = await browser.newContext({ viewport: { width: 1680, height: 950 } });
  const page = await context.newPage();
  await signIn(page, person('agent', 0));
  await page.goto(`/app/tickets/${current.id}`);
  const panel = page.getByRole('region', { name: 'Requester' });
  await expect(panel).toContainText(me.user.display_name);
  await expect(panel).toContainText(customer.email);
  await expect(panel.getByText('Last seen')).toBeVisible();
  const others = panel.getByRole('list', { name: 'Their other open tickets' });
  await expect(others.getByRole('link', { name: new RegExp(earlier.subject) })).toBeVisible();
  await expect(others.getByRole('link', { name: new RegExp(current.subject) })).toHaveCount(0);

  // Two columns: the requester is beside the conversation, and the reply box is on
  // the first screen.
  const conversation = await page.getByRole('list', { name: 'Conversation' }).boundingBox();
  const beside = await panel.boundingBox();
  const composer = await page.getByLabel('Reply to the customer').boundingBox();
  expect(beside!.x).toBeGreaterThan(conversation!.x + conversation!.width - 1);
  expect(composer!.y).toBeLessThan(950);
  await accessible(page, 'ticket-wide');
  // The README's picture of the agent workspace is this screen, as the tests see it.
  await page.screenshot({ path: resolve(import.meta.dirname, '../../docs/images/agent-workspace.png') });

  await page.getByRole('heading', { name: new RegExp(current.subject) }).focus();
  await page.keyboard.press('o');
  await expect(others.getByRole('link', { name: new RegExp(earlier.subject) })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/app/tickets/${earlier.id}$`));
  await expect(page.getByRole('heading', { name: new RegExp(earlier.subject) })).toBeVisible();
  await context.close();

  // A narrower pane: one column, the other tickets folded until o unfolds them.
  const narrow = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const small = await narrow.newPage();
  await signIn(small, person('agent', 0));
  await small.goto(`/app/tickets/${current.id}`);
  const folded = small.getByRole('region', { name: 'Requester' });
  await expect(folded).toContainText(customer.email);
  const link = folded.getByRole('link', { name: new RegExp(earlier.subject) });
  await expect(link).toBeHidden();
  await small.getByRole('heading', { name: new RegExp(current.subject) }).focus();
  await small.keyboard.press('o');
  await expect(link).toBeFocused();
  await narrow.close();
});
