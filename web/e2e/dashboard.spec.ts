import { expect, test } from '@playwright/test';
import { accessible, bearer, person, signIn, token } from './support';

test('the dashboard shows live figures and charts, and follows a new ticket without a reload', async ({ page, request }) => {
  await signIn(page, person('admin'));
  await page.getByRole('button', { name: 'Dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeFocused();
  const created = page.getByTestId('tile-created');
  await expect(created).toHaveText(/^\d+$/);
  await expect(page.locator('figure.chart')).toHaveCount(4);
  // A share is a figure with what it is made of beneath it, or a dash before there is any.
  await expect(page.getByTestId('tile-deflected')).toHaveText(/^(—none yet|\d+%\d+ of \d+)$/);
  await accessible(page, 'dashboard');
  const before = Number(await created.textContent());

  const t = await token(request, person('agent', 0));
  const res = await request.post('/api/v1/tickets', { headers: bearer(t), data: { subject: 'Dashboard live', description: '' } });
  expect(res.status()).toBe(201);
  await expect(created).toHaveText(String(before + 1));

  // Unchanged figures are not sent again: the dashboard's own requests get 304s. The
  // new ticket's AI jobs may still change it for a few seconds (a 200 each time).
  const answers: number[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/api/v1/dashboard')) answers.push(r.status());
  });
  await expect.poll(() => answers.includes(304), { timeout: 45_000 }).toBe(true);
});
