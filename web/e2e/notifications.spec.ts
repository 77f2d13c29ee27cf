import { expect, test } from '@playwright/test';
import { accessible, bearer, person, signIn, token } from './support';

// A notification made by the real path: an escalation rule that notifies a group, a
// customer who writes angrily, the job worker reading the tone.
test('an admin is told of the AI\'s escalation, opens the ticket from the notification, and it is read', async ({ page, request }) => {
  test.setTimeout(120_000);
  const admin = await token(request, person('admin'));
  const me = await (await request.get('/api/v1/me', { headers: bearer(admin) })).json();
  const group = await (
    await request.post('/api/v1/admin/groups', { headers: bearer(admin), data: { name: `Watchers ${Date.now()}`, member_ids: [me.user.id] } })
  ).json();
  const rules = { ai: { escalation: [{ name: 'Tell someone', threshold: -0.3, consecutive: 1, action: 'notify', group_id: group.id }] } };
  expect((await request.patch('/api/v1/admin/settings', { headers: bearer(admin), data: rules })).status()).toBe(200);

  await signIn(page, person('admin'));
  const customer = await token(request, person('customer'));
  const filed = await request.post('/api/v1/tickets', {
    headers: bearer(customer),
    data: { subject: 'Broken for the third time', description: 'This is terrible. I am furious, nothing works and nobody helps!' },
  });
  expect(filed.status(), await filed.text()).toBe(201);
  const id = (await filed.json()).id as number;

  // The escalation is a change to the ticket: the rail's count follows it live.
  const rail = page.getByRole('navigation', { name: 'Views' });
  await expect(rail.getByTestId('unread-notifications')).toBeVisible({ timeout: 60_000 });
  await rail.getByRole('button', { name: /^Notifications/ }).click();
  const item = page.getByTestId('notification').filter({ hasText: `The AI escalated #${id} (rule “Tell someone”)` });
  await expect(item).toContainText('Broken for the third time');
  await expect(item).toHaveClass(/unread/);
  await accessible(page, 'notifications');
  await page.setViewportSize({ width: 390, height: 844 });
  await item.scrollIntoViewIfNeeded();
  await accessible(page, 'phone-notifications');
  await page.setViewportSize({ width: 1280, height: 800 });
  await item.getByRole('button').click();
  await expect(page.getByRole('heading', { level: 2, name: /Broken for the third time/ })).toBeVisible();
  await rail.getByRole('button', { name: /^Notifications/ }).click();
  await expect(page.getByTestId('notification').filter({ hasText: `#${id} ` })).toHaveClass(/read/);
  await expect(page.getByTestId('notification').filter({ hasText: `#${id} ` })).not.toHaveClass(/unread/);

  // No rules again, for the other tests.
  await request.patch('/api/v1/admin/settings', { headers: bearer(admin), data: { ai: { escalation: [] } } });
});
