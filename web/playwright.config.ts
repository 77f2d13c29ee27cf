import { defineConfig } from '@playwright/test';

// The end-to-end tests drive Debian's Chromium (installed by .ci/run with apt-get;
// Playwright's own browser download cannot work here) against the real suite, which
// e2e/global-setup.ts starts with `atum up` on 127.0.0.1.
export default defineConfig({
  testDir: './e2e',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  globalSetup: './e2e/global-setup.ts',
  globalTeardown: './e2e/global-teardown.ts',
  outputDir: '../target/e2e/results',
  reporter: [['list'], ['./e2e/summary-reporter.ts']],
  use: {
    baseURL: process.env.ATUM_E2E_URL ?? 'http://127.0.0.1:18180',
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
    },
  },
});
