import { expect, test } from '@playwright/test';
import { accessible, bearer, linkIn, mailTo, person, signIn, token, totp } from './support';

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

test('a person who forgot their password asks for a link, chooses a new one and signs in with it', async ({ page, request }) => {
  const admin = await token(request, person('admin'));
  const who = { role: 'agent', email: `forgot-${Date.now()}@demo.atum.test`, password: 'the old password here' };
  const made = await request.post('/api/v1/users', {
    headers: bearer(admin),
    data: { email: who.email, display_name: 'Frida Forgetful', role: 'agent', password: who.password },
  });
  expect(made.status(), await made.text()).toBe(201);

  await page.goto('/app/');
  await page.getByRole('button', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { name: 'Reset your password' })).toBeFocused();
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await expect(page.getByRole('status')).toContainText(`If ${who.email} has an account`);
  await accessible(page, 'forgot-password');

  const link = linkIn(await mailTo(who.email, 'Reset your password'), '/reset-password');
  await page.goto(link);
  await page.getByLabel(/^New password/).fill('short');
  await page.getByLabel('The same password again').fill('short');
  await page.getByRole('button', { name: 'Set password' }).click();
  // The API's rule, beside the field.
  await expect(page.locator('#new-password-error')).not.toBeEmpty();
  await expect(page.getByLabel(/^New password/)).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel(/^New password/).fill('a much better password');
  await page.getByLabel('The same password again').fill('a much better password');
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect(page.getByRole('heading', { name: 'Your password is set' })).toBeVisible();
  await signIn(page, { ...who, password: 'a much better password' });
});
