import { expect, test } from '@playwright/test';
import { accessible, bearer, linkIn, mailsTo, mailTo, openAdmin, person, signIn, sql, token } from './support';

test('an admin adds and invites people, changes a role, deactivates and unlocks; the invited person sets a password from the mail', async ({
  page,
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
  // The first mail went astray: the admin sends another, and only its link works.
  await mailTo(ivy.email, 'You are invited to');
  await page.getByTestId(`person-${ivy.email}`).getByRole('button', { name: `Invite ${ivy.name} again` }).click();
  await expect(page.getByRole('status').first()).toContainText(`A new invitation is on its way to ${ivy.email}`);

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
  // On a phone the table scrolls sideways inside its region; the form stays on the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await add.getByRole('button', { name: 'Invite person' }).scrollIntoViewIfNeeded();
  await expect(add.getByRole('button', { name: 'Invite person' })).toBeInViewport();
  await accessible(page, 'phone-admin-people');
  await page.setViewportSize({ width: 1280, height: 800 });

  // The invitation: the link sets a password, and the person signs in with it.
  const [mail, astray] = await mailsTo(ivy.email, 'You are invited to', 2);
  expect(mail).toContain('made you an account');
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

  // Where Ivy is signed in: the admin sees her session and signs it out.
  await page.getByTestId(`person-${ivy.email}`).getByRole('button', { name: `Sessions of ${ivy.name}` }).click();
  const sessions = page.getByRole('region', { name: `Where ${ivy.name} is signed in` });
  await expect(sessions.getByRole('row')).toHaveCount(2);
  await expect(sessions.getByRole('rowheader')).toContainText('Chrome on Linux');
  await accessible(page, 'admin-sessions');
  await sessions.getByRole('button', { name: /^Sign out session \d+/ }).click();
  await expect(sessions.getByRole('status')).toContainText('was signed out');
  await expect(sessions).toContainText('Not signed in anywhere.');
  await ivyPage.reload();
  await expect(ivyPage.getByRole('heading', { name: 'Sign in to ATUM Desk' })).toBeVisible();
  // The astray invitation's link died when the second was sent.
  await ivyPage.goto(linkIn(astray, '/reset-password'));
  await ivyPage.getByLabel(/^New password/).fill('another good password');
  await ivyPage.getByLabel('The same password again').fill('another good password');
  await ivyPage.getByRole('button', { name: 'Set password' }).click();
  await expect(ivyPage.getByRole('alert')).toContainText('expired or was already used');
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
    await page.setViewportSize({ width: 390, height: 844 });
    await form.getByRole('button', { name: 'Save IP allowlist' }).scrollIntoViewIfNeeded();
    await expect(form.getByRole('button', { name: 'Save IP allowlist' })).toBeInViewport();
    await accessible(page, 'phone-admin-security');
    await page.setViewportSize({ width: 1280, height: 800 });
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

test('an admin finds a failed mail job, reads its error and payload, and runs it again until it is delivered', async ({ page }) => {
  const stamp = Date.now();
  const to = `retry-${stamp}@example.test`;
  const org = `(SELECT org_id FROM users WHERE email = '${person('admin').email}')`;
  const failed = (payload: object) =>
    sql(
      `INSERT INTO job_queue (kind, queue, org_id, payload, state, attempt, max_attempts, errors, finished_at)
       SELECT 'SEND_EMAIL', 'default', ${org}, '${JSON.stringify(payload)}'::jsonb || jsonb_build_object('org_id', ${org}),
              'discarded', 3, 3, jsonb_build_array(jsonb_build_object('attempt', 3, 'at', now(), 'error', 'smtp: connection refused')), now()`,
    );
  failed({ to: `secret-${stamp}@example.test`, subject: 'Reset your password', text: 'https://desk/reset-password?token=abc', sensitive: true });
  failed({ to, subject: `Your request ${stamp}`, text: 'We answered your request.', sensitive: false });

  await signIn(page, person('admin'));
  await openAdmin(page, 'Jobs');
  const states = page.getByRole('group', { name: 'Show jobs by state' });
  await states.getByRole('button', { name: /^Failed/ }).click();
  await expect(states.getByRole('button', { name: /^Failed/ })).toHaveAttribute('aria-pressed', 'true');
  await page.getByLabel('Kind').fill('SEND_EMAIL');
  const jobs = page.getByRole('region', { name: 'Jobs, scrollable' });
  await expect(jobs.getByRole('row').nth(2)).toContainText('smtp: connection refused');
  await accessible(page, 'admin-jobs');

  // The mail with a one-time link never shows its body, even to an admin.
  await jobs.getByRole('row').nth(2).getByRole('button', { name: /details/ }).click();
  await expect(page.getByTestId('job-payload')).toContainText('removed: this message carried a one-time link');
  await expect(page.getByTestId('job-payload')).not.toContainText('token=abc');

  await jobs.getByRole('row').nth(1).getByRole('button', { name: /details/ }).click();
  const detail = page.getByRole('article');
  await expect(detail.getByTestId('job-payload')).toContainText(to);
  await expect(detail).toContainText('Attempt 3');
  await accessible(page, 'admin-job-detail');
  await detail.getByRole('button', { name: /^Run job \d+ again$/ }).click();
  await expect(page.getByRole('status').first()).toContainText('is waiting to run again');
  // The job worker sends it this time: the mail is in the suite's mail directory.
  const mail = await mailTo(to, `Your request ${stamp}`);
  expect(mail).toContain('We answered your request.');
  await states.getByRole('button', { name: /^Succeeded/ }).click();
  await expect(jobs).toContainText('SEND_EMAIL');
});

test('an admin sets up a calendar and a policy, previews its due times and sees a ticket\'s SLA change', async ({ page, request }) => {
  const stamp = Date.now();
  const category = `e2e-sla-${stamp}`;
  const calendarName = `Lisbon office ${stamp}`;
  const policyName = `Lisbon urgent ${stamp}`;
  const admin = await token(request, person('admin'));
  const made = await request.post('/api/v1/tickets', {
    headers: bearer(admin),
    data: { subject: 'The warehouse scanner is down', description: 'Nothing scans since this morning.', priority: 'urgent', category },
  });
  expect(made.status(), await made.text()).toBe(201);
  const ticket = (await made.json()).id as number;
  const slaOf = async () => (await request.get(`/api/v1/tickets/${ticket}/sla`, { headers: bearer(admin) })).json();
  const before = await slaOf();

  await signIn(page, person('admin'));
  await openAdmin(page, 'Service levels');
  await page.getByRole('button', { name: 'New calendar' }).click();
  const cal = page.getByRole('form', { name: 'New calendar' });
  await cal.getByLabel('Name').fill(calendarName);
  await cal.getByLabel('Time zone').fill('Europe/Lisbon');
  await cal.getByLabel('Monday').fill('9-5');
  await cal.getByRole('button', { name: 'Save calendar' }).click();
  // The API's reason, beside the day; everything typed stays.
  await expect(cal.locator('#cal-mon-error')).toContainText('HH:MM');
  await expect(cal.getByLabel('Monday')).toHaveAttribute('aria-invalid', 'true');
  await expect(cal.getByLabel('Name')).toHaveValue(calendarName);
  await cal.getByLabel('Monday').fill('09:00-12:30, 13:30-18:00');
  await cal.getByRole('button', { name: 'Save calendar' }).click();
  await expect(page.getByText(`Calendar ${calendarName} saved`)).toBeVisible();
  const week = page.getByRole('table', { name: `Open hours of ${calendarName}` });
  await expect(week.getByRole('row', { name: /Mon/ })).toContainText('09:00–12:30, 13:30–18:00');
  await expect(week.getByRole('row', { name: /Sat/ })).toContainText('Closed');

  await page.getByRole('button', { name: 'New policy' }).click();
  const pol = page.getByRole('form', { name: 'New policy' });
  await pol.getByLabel('Name').fill(policyName);
  await pol.getByRole('checkbox', { name: 'urgent' }).check();
  await pol.getByLabel(/^Categories/).fill(category);
  await pol.getByLabel('Counted in').selectOption({ label: `${calendarName}'s open hours` });
  await pol.getByLabel(/^First response target/).fill('0');
  await pol.getByRole('button', { name: 'Save policy' }).click();
  await expect(pol.locator('#pol-first-error')).toContainText('whole number of minutes');
  await pol.getByLabel(/^First response target/).fill('600');
  await pol.getByLabel(/^Resolution target/).fill('2400');
  await pol.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.getByText(`Policy ${policyName} saved`)).toBeVisible();

  // Policies match in order: the new one goes first.
  const item = page.getByTestId(`policy-${policyName}`);
  await expect(item).toContainText(`in ${calendarName}'s hours`);
  for (let i = 0; i < 20 && (await item.getByRole('button', { name: `Move ${policyName} up` }).isEnabled()); i++) {
    await item.getByRole('button', { name: `Move ${policyName} up` }).click();
    await expect(page.getByText(new RegExp(`${policyName} is now number`))).toBeVisible();
  }
  await expect(page.getByRole('list').filter({ has: item }).getByRole('listitem').first()).toHaveAttribute('data-testid', `policy-${policyName}`);

  // The preview: the same engine, for a ticket like this one.
  const ask = page.getByRole('form', { name: "What would a new ticket's due times be?" });
  await ask.getByLabel('Priority').selectOption('urgent');
  await ask.getByLabel('Category').fill(category);
  await ask.getByRole('button', { name: 'Show due times' }).click();
  const preview = page.getByTestId('sla-preview');
  await expect(preview).toContainText(`Policy ${policyName} would apply`);
  await expect(preview).toContainText('First response: 10 h of open hours');
  await expect(preview).toContainText('Resolution: 40 h of open hours');
  await accessible(page, 'admin-sla');
  await page.setViewportSize({ width: 390, height: 844 });
  await week.scrollIntoViewIfNeeded();
  await expect(week.getByRole('row', { name: /Mon/ })).toBeInViewport();
  await accessible(page, 'phone-admin-sla');
  await page.setViewportSize({ width: 1280, height: 800 });

  // The ticket's clocks are recomputed under the new policy, in business hours.
  await expect
    .poll(async () => {
      const sla = await slaOf();
      return [sla.policy?.name, sla.clocks.find((c: { clock: string }) => c.clock === 'first_response')?.target_minutes];
    }, { timeout: 30_000 })
    .toEqual([policyName, 600]);
  const after = await slaOf();
  expect(after.clocks[0].business_hours).toBe(true);
  expect(after.next_due_at).not.toBe(before.next_due_at);
  await page.goto(`/app/tickets/${ticket}`);
  const due = page.getByTestId('clock-first_response').locator('time');
  await expect(due).toHaveAttribute('datetime', after.clocks.find((c: { clock: string }) => c.clock === 'first_response').due_at);

  // Put the demo back as it was: the policy goes, and the ticket with it.
  const policies = (await (await request.get('/api/v1/admin/sla/policies', { headers: bearer(admin) })).json()).items;
  const mine = policies.find((p: { name: string }) => p.name === policyName);
  expect((await request.delete(`/api/v1/admin/sla/policies/${mine.id}`, { headers: bearer(admin) })).status()).toBe(204);
});

test('an admin builds a catalog form with the API\'s errors beside its fields, previews it as a customer, and a change makes a new version', async ({
  page,
}) => {
  const name = `New laptop ${Date.now()}`;
  await signIn(page, person('admin'));
  await openAdmin(page, 'Service catalog');
  await page.getByRole('button', { name: 'New request type' }).click();
  const form = page.getByRole('form', { name: 'New request type' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel(/^Description/).fill('Ask for a laptop for a new colleague.');
  // Field 1 (details, long text) is there from the start; a choice and a number join it.
  await form.getByRole('button', { name: 'Add a field' }).click();
  await form.getByLabel('Label of field 2').fill('Laptop model');
  await expect(form.getByLabel(/^Key of field 2/)).toHaveValue('laptop_model');
  await form.getByLabel('Type of field 2').selectOption('single_choice');
  await form.getByLabel('Field 2 is required').check();
  await form.getByRole('button', { name: 'Add a field' }).click();
  await form.getByLabel('Label of field 3').fill('Screens');
  await form.getByLabel('Type of field 3').selectOption('number');
  await form.getByLabel('Smallest number for field 3').fill('3');
  await form.getByLabel('Largest number for field 3').fill('1');
  await form.getByRole('button', { name: 'Save request type' }).click();
  // The API's reasons, each beside its field; nothing typed is lost.
  await expect(form.locator('#field-1-options-error')).toContainText('a choice needs 1 to');
  await expect(form.locator('#field-2-max-error')).toContainText('must not be below min');
  await expect(form.getByLabel('Label of field 3')).toHaveValue('Screens');

  await form.getByLabel('Choices of field 2').fill('13-inch\n15-inch');
  await form.getByLabel('Largest number for field 3').fill('3');
  await form.getByLabel('Smallest number for field 3').fill('0');
  await form.getByLabel('Help text of field 3').fill('External screens, if any.');
  const preview = page.getByRole('region', { name: 'As the customer sees it' });
  await expect(preview.getByRole('heading', { name })).toBeVisible();
  await expect(preview.getByLabel(/Laptop model/)).toBeVisible();
  await expect(preview.getByRole('option', { name: '15-inch' })).toBeAttached();
  await expect(preview.getByLabel(/Screens/)).toHaveAttribute('max', '3');
  await expect(preview.getByText('External screens, if any.')).toBeVisible();
  await accessible(page, 'admin-catalog-editor');
  await page.setViewportSize({ width: 390, height: 844 });
  await preview.scrollIntoViewIfNeeded();
  // Nothing wider than the screen: the page does not scroll sideways.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  expect(await page.locator('.admin-pane').evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
  await accessible(page, 'phone-admin-catalog-editor');
  await page.setViewportSize({ width: 1280, height: 800 });
  await form.getByRole('button', { name: 'Save request type' }).click();
  await expect(page.getByText(`${name} saved as version 1.`)).toBeVisible();
  await expect(page.getByTestId(`catalog-${name}`)).toContainText('3 fields, version 1');

  await page.getByRole('button', { name: `Edit ${name}` }).click();
  const edit = page.getByRole('form', { name: 'Edit request type' });
  await edit.getByRole('button', { name: 'Move field 3 up' }).click();
  await expect(edit.getByLabel('Label of field 2')).toHaveValue('Screens');
  await edit.getByRole('button', { name: 'Save request type' }).click();
  await expect(page.getByTestId(`catalog-${name}`)).toContainText('version 2');
});
