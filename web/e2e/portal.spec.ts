import { type APIRequestContext, expect, type Page, test } from '@playwright/test';
import { accessible, bearer, linkIn, mailTo, person, publishIndexed, token } from './support';

/** Requests the portal's form ended without a request, over the last hour, as the dashboard counts them. */
async function deflected(request: APIRequestContext, admin: string): Promise<number> {
  const res = await request.get('/api/v1/dashboard?range=1h', { headers: bearer(admin) });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()).live.deflected ?? 0) as number;
}

async function fitsAPhone(page: Page, name: string) {
  await page.setViewportSize({ width: 390, height: 844 });
  await accessible(page, name);
  expect(await page.evaluate(() => document.documentElement.scrollWidth), 'nothing scrolls sideways').toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 800 });
}

test.describe.configure({ timeout: 180_000 });

test('a customer signs up, confirms the address from the mail, finds an article and leaves without asking, then files a request and sees the agent\'s reply arrive live', async ({
  browser,
  request,
}) => {
  const stamp = Date.now();
  const admin = await token(request, person('admin'));
  const settings = await (await request.get('/api/v1/admin/security/settings', { headers: bearer(admin) })).json();
  const open = await request.put('/api/v1/admin/security/settings', { headers: bearer(admin), data: { ...settings, portal_signup: true } });
  expect(open.status(), await open.text()).toBe(200);
  try {
    const title = `The router light blinks orange ${stamp}`;
    const article = await publishIndexed(
      request,
      admin,
      title,
      `When the router light blinks orange (${stamp}), unplug the router for thirty seconds and plug it in again. The light turns green within two minutes.`,
      `router light blinks orange ${stamp}`,
    );
    const before = await deflected(request, admin);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto('/help/demo/');
    // Before anything is typed, the front page offers articles, never "No article matches".
    await expect(page.getByRole('heading', { name: 'Popular articles' })).toBeVisible();
    await expect(page.getByRole('list', { name: 'Popular articles' }).getByRole('link', { name: title })).toBeVisible();
    await expect(page.getByText('No article matches')).toHaveCount(0);
    await page.getByRole('link', { name: 'Sign up' }).click();
    await expect(page).toHaveURL(/\/help\/demo\/sign-up$/);
    const email = `carla-${stamp}@example.test`;
    const password = `carla's long password ${stamp}`;
    const form = page.getByRole('form', { name: 'Sign up' });
    await form.getByLabel('Your name').fill('Carla Customer');
    await form.getByLabel('E-mail').fill(email);
    // Too short for the API: its reason shows beside the field, and nothing typed is lost.
    await form.getByLabel('Password (at least 12 characters)').fill('short');
    await form.getByLabel('The same password again').fill('short');
    await form.getByRole('button', { name: 'Sign up' }).click();
    await expect(form.getByLabel('Password (at least 12 characters)')).toHaveAttribute('aria-invalid', 'true');
    await expect(form.locator('#signup-password-error')).not.toBeEmpty();
    await expect(form.getByLabel('E-mail')).toHaveValue(email);
    await accessible(page, 'portal-sign-up');
    await fitsAPhone(page, 'phone-portal-sign-up');
    await form.getByLabel('Password (at least 12 characters)').fill(password);
    await form.getByLabel('The same password again').fill(password);
    await form.getByRole('button', { name: 'Sign up' }).click();
    await expect(page.getByRole('heading', { name: 'Check your mailbox' })).toBeVisible();

    // Not confirmed yet: signing in says so, and offers the link again.
    await page.goto('/help/demo/sign-in');
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('Confirm your e-mail address first');

    const mail = await mailTo(email, 'Confirm your email address');
    await page.goto(linkIn(mail, '/help/demo/verify-email'));
    await expect(page.getByRole('status')).toHaveText('Your e-mail address is confirmed. You can sign in now.');
    await accessible(page, 'portal-verified');
    await page.getByRole('link', { name: 'Sign in', exact: true }).last().click();
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'My requests' })).toBeVisible();
    await expect(page.getByText('You have no requests yet.')).toBeVisible();
    await expect(page.getByRole('banner')).toContainText('Carla Customer');

    // The form suggests the article as she writes; it answers her, and she sends nothing.
    await page.getByRole('navigation', { name: 'Help center' }).getByRole('link', { name: 'New request' }).click();
    await page.getByLabel('Subject').fill('Internet is down');
    await page.getByLabel('Describe what happened').fill(`The router light blinks orange ${stamp} since this morning.`);
    const suggested = page.getByRole('region', { name: 'These articles may answer your question' });
    await suggested.getByRole('button', { name: title }).click();
    await expect(suggested.getByRole('heading', { name: title, level: 2 })).toBeVisible();
    await expect(suggested.getByRole('article')).toContainText('unplug the router for thirty seconds');
    await accessible(page, 'portal-new-request-suggested');
    await fitsAPhone(page, 'phone-portal-new-request');
    await suggested.getByRole('button', { name: 'This answered my question' }).click();
    await expect(page.getByRole('heading', { name: 'Glad that helped' })).toBeVisible();
    await page.getByRole('link', { name: 'Back to the help articles' }).click();
    await page.goto(`/help/demo/articles/${article}`);
    await expect(page.getByRole('heading', { name: title, level: 1 })).toBeFocused();
    await fitsAPhone(page, 'phone-portal-article');
    await expect.poll(() => deflected(request, admin), { timeout: 15_000 }).toBe(before + 1);

    // Another day, another problem: this one she sends.
    await page.getByRole('navigation', { name: 'Help center' }).getByRole('link', { name: 'New request' }).click();
    await page.getByLabel('Subject').fill(`Invoice ${stamp} is charged twice`);
    await page.getByLabel('Describe what happened').fill('My card was charged twice for the same invoice.');
    await page.getByRole('button', { name: 'Send request' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Invoice ${stamp} is charged twice`);
    await expect(page).toHaveURL(/\/help\/demo\/requests\/\d+$/);
    const id = Number(/requests\/(\d+)$/.exec(page.url())?.[1]);
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await expect(conversation).toContainText('My card was charged twice for the same invoice.');
    await accessible(page, 'portal-conversation');

    // The agent answers through the API; the page shows it without a reload.
    const agent = await token(request, person('agent'));
    const note = await request.post(`/api/v1/tickets/${id}/comments`, {
      headers: bearer(agent),
      data: { body: `Internal: refund approved for ${stamp}.`, visibility: 'internal' },
    });
    expect(note.status(), await note.text()).toBe(201);
    const reply = await request.post(`/api/v1/tickets/${id}/comments`, {
      headers: bearer(agent),
      data: { body: 'We refunded the second charge; it shows on your card within five days.' },
    });
    expect(reply.status(), await reply.text()).toBe(201);
    await expect(conversation).toContainText('We refunded the second charge');
    const agentName = (await (await request.get('/api/v1/me', { headers: bearer(agent) })).json()).user.display_name as string;
    await expect(conversation.getByRole('listitem').filter({ hasText: 'We refunded' })).toContainText(`${agentName}, support`);
    await expect(page.getByTestId('announcement')).toHaveText('Support replied.');
    await expect(conversation).not.toContainText('Internal: refund approved');

    await page.getByLabel('Your reply').fill('Thank you, I see it now.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect(conversation.getByRole('listitem').last()).toContainText('Thank you, I see it now.');
    await page.getByRole('button', { name: 'My problem is solved: close this request' }).click();
    await expect(page.locator('.meta .status')).toHaveText('Solved');
    const agentView = await (await request.get(`/api/v1/tickets/${id}`, { headers: bearer(agent) })).json();
    expect(agentView.status).toBe('solved');
    await fitsAPhone(page, 'phone-portal-conversation');

    await page.getByRole('link', { name: '← My requests' }).click();
    const done = page.getByRole('region', { name: 'Solved and closed' });
    await expect(done.getByRole('listitem').filter({ hasText: `Invoice ${stamp} is charged twice` })).toContainText('Solved');
    await expect(page.getByRole('region', { name: 'Open' })).toContainText('Nothing open');
    await accessible(page, 'portal-my-requests');
    await fitsAPhone(page, 'phone-portal-my-requests');
    await context.close();
  } finally {
    await request.put('/api/v1/admin/security/settings', { headers: bearer(admin), data: settings });
  }
});

test('a customer fills in a catalog form, is told beside the field what is wrong, sends it, and the agent sees the answers', async ({
  browser,
  request,
}) => {
  const stamp = Date.now();
  const admin = await token(request, person('admin'));
  const name = `A new laptop ${stamp}`;
  const made = await request.post('/api/v1/admin/catalog', {
    headers: bearer(admin),
    data: {
      name,
      description: 'For a new starter or a broken machine.',
      published: true,
      fields: [
        { key: 'model', label: 'Model', type: 'single_choice', options: ['13-inch', '15-inch'], required: true },
        { key: 'count', label: 'How many', type: 'number', min: 1, max: 3, required: true, help: 'At most three at once.' },
        { key: 'reason', label: 'What is it for?', type: 'long_text', required: true },
      ],
    },
  });
  expect(made.status(), await made.text()).toBe(201);

  const customer = person('customer');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/help/demo/requests/new');
  // The form is a signed-in customer's: the page asks for that first, and stays.
  await expect(page.getByRole('heading', { name: 'Sign in to ask for help' })).toBeVisible();
  await page.getByLabel('E-mail').fill(customer.email);
  await page.getByLabel('Password').fill(customer.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'New request' })).toBeVisible();

  await page.getByRole('radio', { name: new RegExp(name) }).check();
  await page.getByLabel('Model').selectOption('15-inch');
  await page.getByLabel('How many').fill('5');
  await page.getByLabel('What is it for?').fill('A new designer starts on Monday.');
  await page.getByRole('button', { name: 'Send request' }).click();
  await expect(page.getByRole('alert')).toContainText('Some answers need another look');
  await expect(page.getByLabel('How many')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('How many')).toBeFocused();
  await expect(page.locator('#request-count-error')).not.toBeEmpty();
  await expect(page.getByLabel('What is it for?')).toHaveValue('A new designer starts on Monday.');
  await accessible(page, 'portal-catalog-error');
  await fitsAPhone(page, 'phone-portal-catalog-error');

  await page.getByLabel('How many').fill('2');
  await page.getByRole('button', { name: 'Send request' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  const id = Number(/requests\/(\d+)$/.exec(page.url())?.[1]);
  await context.close();

  // The agent opens the ticket in the workspace and reads the answers.
  const desk = await browser.newContext();
  const agentPage = await desk.newPage();
  await agentPage.goto(`/app/tickets/${id}`);
  await agentPage.getByLabel('E-mail').fill(person('agent').email);
  await agentPage.getByLabel('Password').fill(person('agent').password);
  await agentPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(agentPage.getByRole('heading', { name: `Request: ${name}` })).toBeVisible();
  const answers = agentPage.locator('dl').filter({ hasText: 'How many' });
  await expect(answers).toContainText('15-inch');
  await expect(answers).toContainText('2');
  await expect(answers).toContainText('A new designer starts on Monday.');
  await desk.close();
});

test('a customer who forgot their password gets a link into the help centre, chooses a new one and signs in there', async ({ browser, request }) => {
  const stamp = Date.now();
  const admin = await token(request, person('admin'));
  const email = `forgetful-${stamp}@example.test`;
  const made = await request.post('/api/v1/users', {
    headers: bearer(admin),
    data: { email, display_name: 'Frida Forgetful', role: 'customer', password: `the old password ${stamp}` },
  });
  expect(made.status(), await made.text()).toBe(201);

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/help/demo/');
  // This organisation takes no sign-ups: nothing offers the form, and its address says so.
  await expect(page.getByRole('banner').getByRole('link', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Sign up' })).toHaveCount(0);
  await accessible(page, 'portal-home');
  await fitsAPhone(page, 'phone-portal-home');
  await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in', level: 1 })).toBeVisible();
  await accessible(page, 'portal-sign-in');
  await fitsAPhone(page, 'phone-portal-sign-in');
  await expect(page.getByRole('main')).toContainText('Ask the support team to make you one.');
  await page.getByRole('button', { name: 'Forgot your password?' }).click();
  await expect(page).toHaveURL(/\/help\/demo\/forgot-password$/);
  // The help centre knows its organisation: nobody is asked for it.
  await expect(page.getByLabel(/Organisation/)).toHaveCount(0);
  await page.getByLabel('E-mail').fill(email);
  await accessible(page, 'portal-forgot-password');
  await page.getByRole('button', { name: 'Send the link' }).click();
  await expect(page.getByRole('status')).toContainText(`If ${email} has an account`);

  const mail = await mailTo(email, 'Reset your password');
  await page.goto(linkIn(mail, '/help/demo/reset-password'));
  await expect(page.getByRole('banner')).toContainText(/help center/i);
  const fresh = `the new password ${stamp}`;
  await page.getByLabel('New password (at least 12 characters)').fill(fresh);
  await page.getByLabel('The same password again').fill(fresh);
  await accessible(page, 'portal-reset-password');
  await fitsAPhone(page, 'phone-portal-reset-password');
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect(page.getByRole('status')).toContainText('Sign in with your new password');
  await page.getByRole('main').getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/help\/demo\/sign-in$/);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(fresh);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'My requests' })).toBeVisible();
  await expect(page.getByRole('banner')).toContainText('Frida Forgetful');

  // Signing out leaves the help centre readable and the requests behind a sign-in.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'How can we help?' })).toBeVisible();
  await page.goto('/help/demo/requests');
  await expect(page.getByRole('heading', { name: 'Sign in to see your requests' })).toBeVisible();
  await context.close();
});
