import { expect, test } from '@playwright/test';
import { accessible, bearer, linkIn, mailTo, openAdmin, person, signIn, sql, token } from './support';

test('an admin adds and invites people, changes a role, deactivates and unlocks; the invited person sets a password from the mail', async ({
  page,
  request,
}) => {
  const stamp = Date.now();
  const bea = { email: `bea-${stamp}@demo.atum.test`, name: `Bea Agent ${stamp}` };
  const ivy = { email: `ivy-${stamp}@demo.atum.test`, name: `Ivy Invited ${stamp}` };
  await signIn(page, person('admin'));
  await openAdmin(page, 'People');
  const people = page.getByRole('region', { name: 'People, scrollable' });
  await expect(people.getByRole('row', { name: /\(you\)/ })).toBeVisible();

  // A field error from the API shows beside its field, and nothing typed is lost.
  const add = page.getByRole('form', { name: 'Add a person' });
  await add.getByLabel('E-mail', { exact: true }).fill('not-an-address');
  await add.getByLabel('Name', { exact: true }).fill(bea.name);
  await add.getByLabel(/^Password/).fill('a long enough password');
  await add.getByRole('button', { name: 'Add person' }).click();
  await expect(add.getByRole('alert')).toHaveText('Some values need fixing.');
  await expect(add.getByLabel('E-mail', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(add.locator('#new-email-error')).not.toBeEmpty();
  await expect(add.getByLabel('Name', { exact: true })).toHaveValue(bea.name);
  await add.getByLabel('E-mail', { exact: true }).fill(bea.email);
  await add.getByRole('button', { name: 'Add person' }).click();
  await expect(add.getByRole('status')).toHaveText(`${bea.name} was added.`);
  const beaRow = page.getByTestId(`person-${bea.email}`);
  await expect(beaRow).toContainText('Active');

  // Without a password the person is invited, and mailed a link to choose one.
  await add.getByLabel('E-mail', { exact: true }).fill(ivy.email);
  await add.getByLabel('Name', { exact: true }).fill(ivy.name);
  await add.getByRole('button', { name: 'Invite person' }).click();
  await expect(add.getByRole('status')).toContainText(`${ivy.name} was invited`);
  await expect(page.getByTestId(`person-${ivy.email}`)).toContainText('Invited');

  // A role change, a deactivation and a reactivation.
  await beaRow.getByLabel(`Role of ${bea.name}`).selectOption('admin');
  await expect(page.getByRole('status').first()).toHaveText(`${bea.name} is now admin.`);
  await beaRow.getByRole('button', { name: `Deactivate ${bea.name}` }).click();
  await expect(beaRow).toContainText('Deactivated');
  await beaRow.getByRole('button', { name: `Reactivate ${bea.name}` }).click();
  await expect(beaRow).toContainText('Active');
  // The admin cannot demote themselves: their own role cannot be changed here.
  await expect(people.getByRole('row', { name: /\(you\)/ }).getByRole('combobox')).toBeDisabled();

  // Locked out by failed sign-ins: the admin lifts it.
  sql(`UPDATE users SET failed_logins = 5, locked_until = now() + interval '15 minutes' WHERE email = '${bea.email}'`);
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('button', { name: 'Groups' }).click();
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('button', { name: 'People' }).click();
  await expect(beaRow).toContainText('Locked until');
  await accessible(page, 'admin-people');
  await beaRow.getByRole('button', { name: `Unlock ${bea.name}` }).click();
  await expect(page.getByRole('status').first()).toHaveText(`${bea.name} can sign in again.`);
  await expect(beaRow).toContainText('Active');

  // The invitation: the link sets a password, and the person signs in with it.
  const mail = await mailTo(ivy.email, 'Reset your password');
  const link = linkIn(mail, '/reset-password');
  const other = await page.context().browser()!.newContext();
  const ivyPage = await other.newPage();
  await ivyPage.goto(link);
  await expect(ivyPage.getByRole('heading', { name: 'Choose a password' })).toBeFocused();
  await ivyPage.getByLabel(/^New password/).fill('ivy chose this password');
  await ivyPage.getByLabel('The same password again').fill('ivy chose this passwort');
  await ivyPage.getByRole('button', { name: 'Set password' }).click();
  await expect(ivyPage.locator('#new-password-error')).toHaveText('The two passwords differ.');
  await ivyPage.getByLabel('The same password again').fill('ivy chose this password');
  await ivyPage.getByRole('button', { name: 'Set password' }).click();
  await expect(ivyPage.getByRole('heading', { name: 'Your password is set' })).toBeVisible();
  await accessible(ivyPage, 'reset-password-done');
  await signIn(ivyPage, { role: 'agent', email: ivy.email, password: 'ivy chose this password' });
  // The link worked once.
  await ivyPage.goto(link);
  await ivyPage.getByLabel(/^New password/).fill('another good password');
  await ivyPage.getByLabel('The same password again').fill('another good password');
  await ivyPage.getByRole('button', { name: 'Set password' }).click();
  await expect(ivyPage.getByRole('alert')).toContainText('expired or was already used');
  await other.close();

  // Everything above is in the audit log, which filters by event and person.
  await openAdmin(page, 'Security');
  await page.getByLabel('Event').selectOption({ label: 'Role changed' });
  await page.getByLabel('Person', { exact: true }).selectOption({ label: bea.name });
  const entries = page.getByTestId('audit-entry');
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toContainText('Role changed');
  await expect(entries.first()).toContainText('"to":"admin"');
  await page.getByLabel('Event').selectOption({ label: 'Account unlocked' });
  await expect(entries).toHaveCount(1);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect.poll(() => entries.count()).toBeGreaterThan(2);
});

test('an admin builds an agent group and changes its members', async ({ page }) => {
  const name = `Billing ${Date.now()}`;
  await signIn(page, person('admin'));
  await openAdmin(page, 'Groups');
  await page.getByRole('button', { name: 'New group' }).click();
  const form = page.getByRole('form', { name: 'New group' });
  await form.getByRole('button', { name: 'Save group' }).click();
  await expect(form.locator('#group-name-error')).not.toBeEmpty();
  await form.getByLabel('Name').fill(name);
  const members = form.getByRole('group', { name: 'Members' });
  await members.getByRole('checkbox').first().check();
  await form.getByRole('button', { name: 'Save group' }).click();
  await expect(page.getByRole('status')).toHaveText(`Group ${name} saved with 1 member.`);
  await expect(page.getByTestId(`group-${name}`)).toBeVisible();
  await accessible(page, 'admin-groups');

  await page.getByRole('button', { name: `Edit ${name}` }).click();
  const edit = page.getByRole('form', { name: 'Edit group' });
  const checks = edit.getByRole('group', { name: 'Members' }).getByRole('checkbox');
  expect(await checks.count()).toBeGreaterThan(1);
  await checks.nth(1).check();
  await edit.getByRole('button', { name: 'Save group' }).click();
  await expect(page.getByRole('status')).toHaveText(`Group ${name} saved with 2 members.`);
});

test('the IP allowlist warns before, and refuses, a list that would lock the admin out', async ({ page, request }) => {
  const admin = await token(request, person('admin'));
  try {
    await signIn(page, person('admin'));
    await openAdmin(page, 'Security');
    const form = page.getByRole('form', { name: 'IP allowlist' });
    await expect(form.getByTestId('my-ip')).toHaveText('127.0.0.1');

    await form.getByRole('button', { name: 'Add an entry' }).click();
    await form.getByLabel('Address or network 1').fill('203.0.113.0/24');
    await form.getByLabel('Note 1').fill('Head office');
    await expect(form.getByText('This list does not include your address (127.0.0.1)')).toBeVisible();
    await accessible(page, 'admin-security');
    await form.getByRole('button', { name: 'Save IP allowlist' }).click();
    await expect(form.getByRole('alert').last()).toContainText('add it, or you would be locked out');
    const stored = await (await request.get('/api/v1/admin/security/ip-allowlist', { headers: bearer(admin) })).json();
    expect(stored.entries).toEqual([]);

    // A malformed network: the API's reason beside the field.
    await form.getByRole('button', { name: 'Add an entry' }).click();
    await form.getByLabel('Address or network 2').fill('127.0.0.1/8');
    await form.getByRole('button', { name: 'Save IP allowlist' }).click();
    await expect(form.locator('#cidr-1-error')).not.toBeEmpty();
    await expect(form.getByLabel('Address or network 2')).toHaveAttribute('aria-invalid', 'true');

    await form.getByLabel('Address or network 2').fill('127.0.0.0/8');
    await expect(form.getByText('This list does not include your address')).toHaveCount(0);
    await form.getByRole('button', { name: 'Save IP allowlist' }).click();
    await expect(form.getByRole('status')).toHaveText('IP allowlist saved.');
    const kept = [await form.getByLabel('Address or network 1').inputValue(), await form.getByLabel('Address or network 2').inputValue()];
    expect(kept.sort()).toEqual(['127.0.0.0/8', '203.0.113.0/24']);

    await form.getByRole('button', { name: 'Remove entry 2' }).click();
    await form.getByRole('button', { name: 'Remove entry 1' }).click();
    await form.getByRole('button', { name: 'Save IP allowlist' }).click();
    await expect(form.getByRole('status')).toHaveText('The allowlist is empty: every address may sign in.');

    // The sign-in rules save as the API says.
    const rules = page.getByRole('form', { name: 'Sign-in rules' });
    const signup = rules.getByLabel(/Customers may sign up/);
    const was = await signup.isChecked();
    await signup.setChecked(!was);
    await rules.getByRole('button', { name: 'Save sign-in rules' }).click();
    await expect(rules.getByRole('status')).toHaveText('Security settings saved.');
    const saved = await (await request.get('/api/v1/admin/security/settings', { headers: bearer(admin) })).json();
    expect(saved.portal_signup).toBe(!was);
    await signup.setChecked(was);
    await rules.getByRole('button', { name: 'Save sign-in rules' }).click();
    await expect(rules.getByRole('status')).toHaveText('Security settings saved.');
  } finally {
    // Whatever happened, the suite's other tests must not find a list in place.
    await request.put('/api/v1/admin/security/ip-allowlist', { headers: bearer(admin), data: { entries: [] } });
  }
});
