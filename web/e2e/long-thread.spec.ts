import { expect, test } from '@playwright/test';
import { accessible, bearer, person, signIn, sql, token } from './support';

// A mail thread with a bot can reach 20,000 messages: the ticket opens with the newest
// ones, the rest a page at a time on demand, and the reply box works as on any ticket.
test('an agent opens a 20,000-message ticket, shows earlier messages and replies to it; its customer reads it too', async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(120_000);
  const agent = await token(request, person('agent'));
  const customer = person('customer');
  const me = await (await request.get('/api/v1/me', { headers: bearer(await token(request, customer)) })).json();
  const made = await request.post('/api/v1/tickets', {
    headers: bearer(agent),
    data: { subject: 'Twenty thousand messages', description: 'The bot would not stop.', requester_id: me.user.id },
  });
  expect(made.status(), await made.text()).toBe(201);
  const ticket = await made.json();
  // Through the API this takes minutes on a debug build; the fixture writes the rows
  // the API would, a minute apart, the customer and the agent taking turns.
  sql(`INSERT INTO ticket_comments (org_id, ticket_id, author_id, visibility, body, created_at)
       SELECT t.org_id, t.id, CASE WHEN g % 2 = 0 THEN t.requester_id ELSE a.id END, 'public',
              'Automatic message ' || g, now() - (20001 - g) * interval '1 minute'
         FROM tickets t, (SELECT id FROM users WHERE email = '${person('agent').email}') a, generate_series(1, 20000) g
        WHERE t.id = ${ticket.id}`);

  await signIn(page, person('agent'));
  await page.goto(`/app/tickets/${ticket.id}`);
  const conversation = page.getByRole('list', { name: 'Conversation' });
  await expect(conversation.getByTestId('comment').last()).toContainText('Automatic message 20000');
  await expect(conversation.getByTestId('comment')).toHaveCount(20);
  await expect(conversation).toContainText('The bot would not stop.');
  const earlier = page.getByTestId('show-earlier');
  await expect(earlier).toHaveText('19,980 earlier messages: show 100 more');
  await accessible(page, 'long-thread');

  await earlier.click();
  await expect(conversation.getByTestId('comment')).toHaveCount(120);
  await expect(conversation.getByTestId('comment').first()).toContainText('Automatic message 19881');
  await expect(earlier).toHaveText('19,880 earlier messages: show 100 more');
  await expect(earlier).toBeFocused();
  await expect(page.getByRole('status').filter({ hasText: '100 earlier messages shown.' })).toBeAttached();

  await page.getByLabel('Reply to the customer').fill('We stopped the bot; sorry for the noise.');
  await page.getByRole('button', { name: 'Send (Ctrl+Enter)' }).click();
  await expect(conversation.getByTestId('comment').last()).toContainText('We stopped the bot; sorry for the noise.');
  // What was shown stays shown: the earlier page and the new reply.
  await expect(conversation.getByTestId('comment')).toHaveCount(121);
  await expect(earlier).toHaveText('19,880 earlier messages: show 100 more');

  // The customer's view of it pages the same way, and a reply from support arrives by itself.
  const context = await browser.newContext();
  const portal = await context.newPage();
  await portal.goto(`/help/demo/requests/${ticket.id}`);
  await expect(portal.getByRole('heading', { name: 'Sign in to see your requests' })).toBeVisible();
  await portal.getByLabel('E-mail').fill(customer.email);
  await portal.getByLabel('Password').fill(customer.password);
  await portal.getByRole('button', { name: 'Sign in' }).click();
  const theirs = portal.getByRole('list', { name: 'Conversation' });
  await expect(theirs.getByRole('listitem').last()).toContainText('We stopped the bot');
  await expect(theirs.getByRole('button', { name: '19,981 earlier messages: show 100 more' })).toBeVisible();
  const answer = await request.post(`/api/v1/tickets/${ticket.id}/comments`, { headers: bearer(agent), data: { body: 'One more thing: it is fixed for good.' } });
  expect(answer.status(), await answer.text()).toBe(201);
  await expect(theirs.getByRole('listitem').last()).toContainText('it is fixed for good');
  await expect(portal.getByTestId('announcement')).toHaveText('Support replied.');
  await context.close();
});
