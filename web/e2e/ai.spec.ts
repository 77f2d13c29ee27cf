import { type APIRequestContext, expect, test } from '@playwright/test';
import { accessible, bearer, openAdmin, person, publishIndexed, signIn, token } from './support';

/** The demo organisation's triage models, trained by the job worker from its 300 seeded tickets. */
async function trained(request: APIRequestContext, admin: string) {
  await expect
    .poll(
      async () => {
        const status = await (await request.get('/api/v1/ai/triage', { headers: bearer(admin) })).json();
        return status.trainings.find((t: { field: string }) => t.field === 'category')?.status ?? 'none';
      },
      { timeout: 240_000, intervals: [1_000] },
    )
    .toBe('ready');
}

test('an agent sees the AI\'s triage of a new ticket with its reasons and accepts it with one key', async ({ page, request }) => {
  test.setTimeout(300_000);
  const admin = await token(request, person('admin'));
  await trained(request, admin);
  const customer = await token(request, person('customer'));
  const filed = await request.post('/api/v1/tickets', {
    headers: bearer(customer),
    data: {
      subject: 'I cannot sign in to my account any more',
      description: 'The password reset link does not work and I am locked out of my account. This is very annoying!',
    },
  });
  expect(filed.status(), await filed.text()).toBe(201);
  const id = (await filed.json()).id as number;

  await signIn(page, person('agent'));
  await page.goto(`/app/tickets/${id}`);
  const category = page.getByTestId('triage-category');
  // Triage runs on the job worker seconds after the ticket; the panel looks again until it has.
  await expect(category).toContainText('% sure', { timeout: 60_000 });
  await expect(category).toContainText('account');
  await expect(page.getByTestId('triage-tone')).toContainText('negative');
  await expect(page.getByRole('region', { name: 'Triage' })).toContainText('English');
  await expect(category.getByRole('button', { name: /Open a similar ticket/ }).first()).toBeVisible();
  await accessible(page, 'ticket-triage');

  await page.getByRole('heading', { level: 2 }).focus();
  await page.keyboard.press('a');
  await expect(category).toContainText('you accepted it');
  await expect(page.getByLabel('Category')).toHaveValue('account');
  const ticket = await (await request.get(`/api/v1/tickets/${id}`, { headers: bearer(admin) })).json();
  expect(ticket.category).toBe('account');
});

test('an admin reads how the triage model did on held-back tickets and sets its thresholds, with errors beside the field', async ({ page, request }) => {
  test.setTimeout(300_000);
  const admin = await token(request, person('admin'));
  await trained(request, admin);
  await signIn(page, person('admin'));
  await openAdmin(page, 'AI settings');
  await expect(page.getByRole('heading', { name: 'AI settings' })).toBeFocused();
  const model = page.getByTestId('model-category');
  await expect(model).toContainText('accuracy');
  await expect(model).toContainText('always answering');
  await expect(model.getByRole('table')).toContainText('≥ 0.9');

  await page.getByLabel('Suggest from (0 to 1)').fill('0.6');
  await page.getByLabel('Apply from (0 to 1)').fill('0.4');
  await page.getByRole('button', { name: 'Save thresholds' }).click();
  await expect(page.getByText('must be at least the suggest threshold')).toBeVisible();
  await expect(page.getByLabel('Apply from (0 to 1)')).toHaveValue('0.4');
  await accessible(page, 'ai-settings');
  await page.getByLabel('Apply from (0 to 1)').fill('0.95');
  await page.getByRole('button', { name: 'Save thresholds' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  const settings = await (await request.get('/api/v1/admin/settings', { headers: bearer(admin) })).json();
  expect(settings.ai).toEqual({ suggest_threshold: 0.6, apply_threshold: 0.95, escalation: [], llm: null });
  // Back to the defaults, for the other tests.
  await request.patch('/api/v1/admin/settings', { headers: bearer(admin), data: { ai: { suggest_threshold: 0.5, apply_threshold: 0.9 } } });
});

test('an admin writes an escalation rule, sees the API\'s error beside the field, fixes it and saves it', async ({ page, request }) => {
  const admin = await token(request, person('admin'));
  await signIn(page, person('admin'));
  await openAdmin(page, 'AI settings');
  const form = page.getByRole('form', { name: 'Escalation rules' });
  await form.getByRole('button', { name: 'Add a rule' }).click();
  await form.getByLabel('Name').fill('Angry customer');
  await form.getByLabel('Negative at or below (−1 to 0)').fill('0.4');
  await form.getByLabel('Negative messages in a row (1 to 10)').fill('2');
  await form.getByLabel('Then').selectOption('move_to_group');
  await form.getByRole('button', { name: 'Save rules' }).click();
  await expect(form.getByText('must be from -1 up to (not including) 0')).toBeVisible();
  await expect(form.getByText('names the group to move the ticket to')).toBeVisible();
  await expect(form.getByLabel('Name')).toHaveValue('Angry customer');
  await accessible(page, 'ai-escalation');
  await page.setViewportSize({ width: 390, height: 844 });
  await form.getByLabel('Negative at or below (−1 to 0)').scrollIntoViewIfNeeded();
  await accessible(page, 'phone-ai-escalation');
  await page.setViewportSize({ width: 1280, height: 800 });

  await form.getByLabel('Negative at or below (−1 to 0)').fill('-0.4');
  await form.getByLabel('Then').selectOption('raise_priority');
  await form.getByRole('button', { name: 'Save rules' }).click();
  await expect(form.getByRole('status').filter({ hasText: 'Rules saved.' })).toBeVisible();
  const settings = await (await request.get('/api/v1/admin/settings', { headers: bearer(admin) })).json();
  expect(settings.ai.escalation).toEqual([
    { name: 'Angry customer', threshold: -0.4, consecutive: 2, action: 'raise_priority', group_id: null },
  ]);
  // No rules again, for the other tests.
  await form.getByRole('button', { name: 'Remove rule 1' }).click();
  await form.getByRole('button', { name: 'Save rules' }).click();
  await expect(form.getByText('No rules.')).toBeVisible();
  await expect
    .poll(async () => (await (await request.get('/api/v1/admin/settings', { headers: bearer(admin) })).json()).ai.escalation)
    .toEqual([]);
});

test('an agent inserts the AI\'s cited draft with one key, edits and sends it, and links a suggested article', async ({ page, request }) => {
  test.setTimeout(180_000);
  const admin = await token(request, person('admin'));
  const stamp = Date.now();
  const title = `Renewing a Harbour garage parking permit ${stamp}`;
  const article = await publishIndexed(
    request,
    admin,
    title,
    'To renew your Harbour garage parking permit, open the Permits page of your account. ' +
      'Choose the permit that expires and press Renew, then pay the yearly fee. ' +
      'The new permit reaches you by e-mail within an hour.\n\nOur office in Lisbon was founded in 1998.',
    'renew my Harbour garage parking permit',
  );

  const customer = await token(request, person('customer'));
  const filed = await request.post('/api/v1/tickets', {
    headers: bearer(customer),
    data: { subject: 'Parking permit renewal', description: 'How do I renew my Harbour garage parking permit? It expires next week.' },
  });
  expect(filed.status(), await filed.text()).toBe(201);
  const id = (await filed.json()).id as number;

  await signIn(page, person('agent'));
  await page.goto(`/app/tickets/${id}`);
  const draft = page.getByRole('region', { name: 'Draft reply' });
  // The draft is written on the job worker seconds after the ticket; the panel looks again until it is.
  await expect(draft.getByTestId('draft-body')).toContainText('press Renew', { timeout: 60_000 });
  await expect(draft.getByTestId('draft-body')).not.toContainText('Lisbon');
  await expect(draft.getByRole('list', { name: 'Sources of the draft' })).toContainText(title);
  const suggested = page.getByRole('region', { name: 'Articles for this ticket' });
  await expect(suggested).toContainText(title);
  await draft.scrollIntoViewIfNeeded();
  await accessible(page, 'ticket-draft');
  // On a phone the panel keeps its sources and actions within the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await draft.scrollIntoViewIfNeeded();
  await expect(draft.getByRole('button', { name: 'Insert into the reply (i)' })).toBeInViewport();
  await accessible(page, 'phone-draft');
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.getByRole('heading', { level: 2 }).focus();
  await page.keyboard.press('i');
  const reply = page.getByLabel('Reply to the customer');
  await expect(reply).toBeFocused();
  await expect(reply).toHaveValue(/press Renew/);
  await suggested.getByRole('button', { name: `Insert a link to ${title} into the reply` }).click();
  await expect(reply).toHaveValue(new RegExp(`/help/[a-z0-9-]+/articles/${article}`));
  await reply.press('Control+Enter');
  await expect(page.getByTestId('comment').last()).toContainText('press Renew');
  await expect(draft).toContainText('This draft was sent.');

  const stats = await (await request.get('/api/v1/ai/replies', { headers: bearer(admin) })).json();
  expect(stats.sent).toBeGreaterThanOrEqual(1);
  expect(stats.mean_edit_distance).toBeGreaterThan(0);
});
