import { expect, test } from '@playwright/test';
import { accessible, bearer, person, signIn, token, totp } from './support';

test('an agent turns on two-factor, changes the password and signs out another session', async ({ page, request }) => {
  const admin = await token(request, person('admin'));
  const agent = { role: 'agent', email: `account-${Date.now()}@demo.atum.test`, password: 'first password of many' };
  const made = await request.post('/api/v1/users', {
    headers: bearer(admin),
    data: { email: agent.email, display_name: 'Alex Account', role: 'agent', password: agent.password },
  });
  expect(made.status(), await made.text()).toBe(201);
  await token(request, agent); // a second session, elsewhere

  await signIn(page, agent);
  await page.getByRole('button', { name: 'Your account' }).click();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeFocused();
  await expect(page.getByTestId('session')).toHaveCount(2);
  await page.getByRole('button', { name: 'Sign out this session' }).click();
  await expect(page.getByTestId('session')).toHaveCount(1);

  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await expect(page.getByRole('img', { name: /QR code/ })).toBeVisible();
  await accessible(page, 'account-enrol');
  const secret = (await page.getByTestId('totp-secret').textContent()) ?? '';
  await page.getByLabel('The 6-digit code your app now shows').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
  await expect(page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem')).toHaveCount(10);
  const recovery = (await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').first().textContent()) ?? '';

  await page.getByLabel('Current password').fill(agent.password);
  await page.getByLabel(/New password/).fill('second password, longer');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText(/Password changed/)).toBeVisible();

  // A new browser signs in with the new password and a recovery code.
  const other = await page.context().browser()!.newContext();
  const next = await other.newPage();
  await next.goto('/app/');
  await next.getByLabel('E-mail').fill(agent.email);
  await next.getByLabel('Password').fill('second password, longer');
  await next.getByRole('button', { name: 'Sign in' }).click();
  await next.getByLabel(/Code from your authenticator app/).fill(recovery.trim());
  await next.getByRole('button', { name: 'Verify' }).click();
  await expect(next.getByRole('navigation', { name: 'Views' })).toBeVisible();
  await other.close();
});
