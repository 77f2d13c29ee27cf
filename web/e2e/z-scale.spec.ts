import { expect, test } from '@playwright/test';
import { bearer, person, signIn, sql, token } from './support';

// Last (files run in name order): it fills the demo organisation with 10,000 tickets.
test('a view of 10,000 tickets scrolls with fewer than 200 rows in the DOM', async ({ page, request }) => {
  test.setTimeout(300_000);
  const t = await token(request, person('agent'));
  const existing = await (await request.get('/api/v1/tickets?limit=1', { headers: bearer(t) })).json();
  expect(existing.items.length).toBeGreaterThan(0);
  // 10,000 tickets through the API take minutes on a debug build; the fixture writes
  // them in one statement, as the API would (numbered in the organisation's sequence).
  sql(`WITH o AS (SELECT id FROM organizations WHERE slug = 'demo'),
            n AS (UPDATE organizations SET last_ticket_number = last_ticket_number + 10000
                  WHERE slug = 'demo' RETURNING last_ticket_number)
       INSERT INTO tickets (org_id, number, subject, description, requester_id, channel)
       SELECT o.id, n.last_ticket_number - 10000 + g, 'Scale ticket ' || g, 'many of us',
              (SELECT id FROM users WHERE org_id = o.id AND role = 'customer' ORDER BY id LIMIT 1), 'web'
       FROM o, n, generate_series(1, 10000) g`);

  await signIn(page, person('agent'));
  const list = page.getByTestId('ticket-list');
  await expect(list.getByRole('option').first()).toBeVisible();
  let loaded = 0;
  for (let round = 0; round < 150 && loaded < 10_000; round += 1) {
    await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await expect
      .poll(async () => Number(await list.getAttribute('data-count')), { timeout: 10_000 })
      .toBeGreaterThan(loaded);
    loaded = Number(await list.getAttribute('data-count'));
    const rows = await list.getByRole('option').count();
    expect(rows, `rows in the DOM with ${loaded} loaded`).toBeLessThan(200);
  }
  expect(loaded).toBeGreaterThanOrEqual(10_000);
  // Keyboard navigation still reaches a row far down.
  await page.keyboard.press('j');
  await expect(page).toHaveURL(/\/app\/tickets\/\d+$/);
});
