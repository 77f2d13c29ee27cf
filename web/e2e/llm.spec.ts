import { expect, test } from '@playwright/test';
import { FAKE_LLM } from './global-setup';
import { accessible, bearer, openAdmin, person, publishIndexed, signIn, token } from './support';

// The optional language model, against the fake model server the suite starts
// (`atum-fake-llm`): it rewords the draft's quotes, starting with "In short,".
test('an admin connects a language model and tests it, and the agent\'s draft is worded by it with its sources', async ({ page, request }) => {
  test.setTimeout(180_000);
  const admin = await token(request, person('admin'));
  await signIn(page, person('admin'));
  await openAdmin(page, 'AI settings');
  const form = page.getByRole('form', { name: 'Language model' });
  await form.getByLabel('Server').selectOption('ollama');
  await form.getByLabel('Address').fill('not an address');
  await form.getByLabel('Model').fill('fake-writer');
  await form.getByRole('button', { name: 'Save language model' }).click();
  await expect(form.getByText(/is not a URL/)).toBeVisible();
  await form.getByLabel('Address').fill(FAKE_LLM);
  await form.getByLabel('Timeout per attempt (seconds, 1 to 300)').fill('10');
  await expect(form.getByLabel('Word draft replies from their quotes')).toBeChecked();
  await form.getByRole('button', { name: 'Save language model' }).click();
  await expect(page.getByText('Language model saved.')).toBeVisible();
  await form.getByRole('button', { name: 'Test the connection' }).click();
  await expect(page.getByTestId('llm-test')).toContainText(/The model answered in \d+ ms/);
  await expect(page.getByTestId('llm-request').first()).toContainText('Connection test');
  await expect(page.getByTestId('llm-request').first()).toContainText('Used');
  await accessible(page, 'ai-llm');
  // On a phone the form and the log stay within the screen (the log scrolls sideways).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByTestId('llm-request').first().scrollIntoViewIfNeeded();
  await expect(form.getByRole('button', { name: 'Test the connection' })).toBeVisible();
  await accessible(page, 'phone-ai-llm');
  await page.setViewportSize({ width: 1280, height: 800 });

  const stamp = Date.now();
  const title = `Replacing a lost Harbour gym badge ${stamp}`;
  await publishIndexed(
    request,
    admin,
    title,
    'To replace a lost Harbour gym badge, open the Badges page of your account and press Replace. The new gym badge works at once.',
    'replace my lost Harbour gym badge',
  );
  const customer = await token(request, person('customer'));
  const filed = await request.post('/api/v1/tickets', {
    headers: bearer(customer),
    data: { subject: 'Lost gym badge', description: 'I lost my Harbour gym badge. How do I replace my lost gym badge?' },
  });
  expect(filed.status(), await filed.text()).toBe(201);
  const id = (await filed.json()).id as number;

  await page.context().clearCookies();
  await signIn(page, person('agent'));
  await page.goto(`/app/tickets/${id}`);
  const draft = page.getByRole('region', { name: 'Draft reply' });
  await expect(draft).toContainText('Worded by fake-writer from 1 source', { timeout: 60_000 });
  await expect(draft.getByTestId('draft-body')).toContainText('In short, to replace a lost Harbour gym badge');
  await expect(draft.getByRole('list', { name: 'Sources of the draft' })).toContainText(title);
  await draft.getByRole('link', { name: 'source 1' }).first().focus();
  await accessible(page, 'ticket-draft-worded');

  // The admin's log has the draft's request; removing the model stops them.
  await page.context().clearCookies();
  await signIn(page, person('admin'));
  await openAdmin(page, 'AI settings');
  await expect(page.getByTestId('llm-request').first()).toContainText(`Draft, ticket #${id}`);
  await page.getByTestId('llm-request').first().getByText('Sent and received').click();
  await expect(page.getByTestId('llm-request').first()).toContainText('CUSTOMER MESSAGE');
  await page.getByRole('button', { name: 'Remove the language model' }).click();
  await expect(page.getByText('Language model removed.')).toBeVisible();
  const settings = await (await request.get('/api/v1/admin/settings', { headers: bearer(admin) })).json();
  expect(settings.ai.llm).toBeNull();
});
