import { expect, test } from '@playwright/test';
import { accessible, bearer, person, signIn, token } from './support';

test('an agent links tickets by number and merges a duplicate into its original', async ({ page, request }) => {
  const t = await token(request, person('agent', 0));
  const make = async (subject: string) =>
    (await request.post('/api/v1/tickets', { headers: bearer(t), data: { subject, description: '' } })).json();
  const original = await make('VPN down for the Berlin office');
  const duplicate = await make('VPN not working (Berlin)');
  await signIn(page, person('agent', 0));
  await page.goto(`/app/tickets/${duplicate.id}`);
  await page.getByText('Links and merge').click();

  await page.getByLabel('This ticket is').selectOption('related_to');
  await page.getByLabel('ticket number', { exact: true }).fill(`#${original.number}`);
  await page.getByRole('button', { name: 'Link', exact: true }).click();
  await expect(page.getByTestId('link')).toContainText(`#${original.number} VPN down for the Berlin office`);
  await accessible(page, 'ticket-links');
  await page.getByRole('button', { name: `Remove the link to #${original.number}` }).click();
  await expect(page.getByTestId('link')).toHaveCount(0);

  await page.getByLabel('ticket number', { exact: true }).fill('#999999');
  await page.getByRole('button', { name: 'Link', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('There is no ticket #999999');

  await page.getByLabel('Merge this duplicate into ticket number').fill(String(original.number));
  await page.getByRole('button', { name: 'Merge' }).click();
  await expect(page.getByLabel('Status')).toHaveValue('closed');
  await expect(page.getByTestId('link').first()).toContainText(`#${original.number}`);
});

test('a ticket filed from the service catalog shows the request\'s answers', async ({ page, request }) => {
  const admin = await token(request, person('admin'));
  const item = await request.post('/api/v1/admin/catalog', {
    headers: bearer(admin),
    data: {
      name: 'Desk move',
      description: 'Move a desk to another floor.',
      published: true,
      fields: [
        { key: 'floor', label: 'New floor', type: 'number', required: true, min: 0, max: 40 },
        { key: 'urgent', label: 'Urgent', type: 'checkbox' },
      ],
    },
  });
  expect(item.status(), await item.text()).toBe(201);
  const customer = await token(request, person('customer'));
  const filed = await request.post(`/api/v1/catalog/${(await item.json()).id}/requests`, {
    headers: bearer(customer),
    data: { answers: { floor: 7, urgent: true } },
  });
  expect(filed.status(), await filed.text()).toBe(201);
  await signIn(page, person('agent', 0));
  await page.goto(`/app/tickets/${(await filed.json()).id}`);
  await expect(page.getByRole('heading', { name: 'Request: Desk move' })).toBeVisible();
  await expect(page.locator('.answers')).toContainText('New floor');
  await expect(page.locator('.answers')).toContainText('7');
  await expect(page.locator('.answers')).toContainText('Yes');
});
