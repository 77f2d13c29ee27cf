import { expect, type Page, test } from '@playwright/test';
import { accessible, bearer, person, signIn, token } from './support';

test.describe.configure({ timeout: 180_000 });

/** A small real PNG (a 2×2 red square), as a screenshot would be. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
);

async function signInToHelp(page: Page, path: string) {
  const customer = person('customer');
  await page.goto(path);
  await page.getByLabel('E-mail').fill(customer.email);
  await page.getByLabel('Password').fill(customer.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Pastes `bytes` as a file into the focused element, as a browser does with a screenshot. */
async function pasteFile(page: Page, selector: string, name: string, type: string, bytes: Buffer) {
  await page.locator(selector).evaluate(
    (el, { name, type, data }) => {
      const file = new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type });
      const transfer = new DataTransfer();
      transfer.items.add(file);
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    },
    { name, type, data: bytes.toString('base64') },
  );
}

test('an agent pastes a screenshot into a reply and the customer sees it in the help center, in the viewer by keyboard', async ({
  browser,
  page,
  request,
}) => {
  const stamp = Date.now();
  const customer = await token(request, person('customer'));
  const made = await request.post('/api/v1/tickets', {
    headers: bearer(customer),
    data: { subject: `Blank screen ${stamp}`, description: 'The app shows nothing after login.' },
  });
  expect(made.status(), await made.text()).toBe(201);
  const ticket = await made.json();

  await signIn(page, person('agent'));
  await page.goto(`/app/tickets/${ticket.id}`);
  const composer = page.getByLabel('Reply to the customer');
  await composer.fill('This is what it should look like:');
  await pasteFile(page, '#composer', 'screenshot.png', 'image/png', PNG);
  const uploads = page.getByRole('list', { name: 'Files to send' });
  await expect(uploads.getByText('attached')).toBeVisible();
  await accessible(page, 'composer-with-attachment');
  await page.getByRole('button', { name: /^Send \(/ }).click();
  const sent = page.getByTestId('comment').filter({ hasText: 'This is what it should look like:' });
  await expect(sent.getByRole('button', { name: 'View screenshot.png' })).toBeVisible();
  await expect(uploads).toHaveCount(0);

  const context = await browser.newContext();
  const help = await context.newPage();
  await signInToHelp(help, `/help/demo/requests/${ticket.id}`);
  await expect(help.getByRole('heading', { name: `Blank screen ${stamp}` })).toBeVisible();
  const thumb = help.getByRole('button', { name: 'View screenshot.png' });
  await expect(thumb).toBeVisible();
  // The picture really loads (the customer's session may fetch it).
  await expect.poll(() => thumb.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2);
  await thumb.focus();
  await help.keyboard.press('Enter');
  const viewer = help.getByRole('dialog', { name: /screenshot\.png/ });
  await expect(viewer).toBeVisible();
  await expect(viewer.getByRole('button', { name: 'Close (Esc)' })).toBeFocused();
  await accessible(help, 'help-viewer');
  await help.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);
  await expect(thumb).toBeFocused();
  await context.close();
});

test('a customer attaches a log to a new request and the agent downloads it; a refused file says why', async ({ browser, page }) => {
  const stamp = Date.now();
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const help = await context.newPage();
  await signInToHelp(help, '/help/demo/requests/new');
  await expect(help.getByRole('heading', { name: 'New request' })).toBeVisible();
  const picker = help.getByLabel('Attach files (screenshots, logs)');
  // A ZIP named like a picture: the bytes decide, and customers may not send archives.
  await picker.setInputFiles({ name: 'holiday.png', mimeType: 'image/png', buffer: Buffer.from('PK\x03\x04\x14\x00\x00\x00\x08\x00zipzipzip') });
  await expect(help.getByRole('alert')).toContainText('holiday.png was not attached');
  await expect(help.getByRole('alert')).toContainText('application/zip');
  await help.getByRole('button', { name: 'Remove holiday.png' }).click();
  const log = `2026-12-06 10:00:01 ERROR sync failed ${stamp}\n`.repeat(20);
  await picker.setInputFiles({ name: 'sync.log', mimeType: 'text/plain', buffer: Buffer.from(log) });
  await expect(help.getByRole('list', { name: 'Files to send' }).getByText('attached')).toBeVisible();
  await accessible(help, 'phone-new-request-with-file');
  expect(await help.evaluate(() => document.documentElement.scrollWidth), 'nothing scrolls sideways').toBeLessThanOrEqual(390);
  await help.getByLabel('Subject').fill(`Sync fails ${stamp}`);
  await help.getByLabel('Describe what happened').fill('The log is attached.');
  await help.getByRole('button', { name: 'Send request' }).click();
  await expect(help.getByRole('heading', { name: `Sync fails ${stamp}` })).toBeVisible();
  await expect(help.getByRole('link', { name: 'sync.log' })).toBeVisible();
  const url = new URL(help.url());
  const id = url.pathname.split('/').pop();
  await context.close();

  await signIn(page, person('agent'));
  await page.goto(`/app/tickets/${id}`);
  const link = page.getByRole('link', { name: 'sync.log' });
  await expect(link).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(download.suggestedFilename()).toBe('sync.log');
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  expect(readFileSync(path, 'utf8')).toBe(log);
});
