import { readFileSync } from 'node:fs';
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

// The one line CI reads: "e2e: N passed, N failed". For a failure it also prints what
// the page showed (Playwright's snapshot of it), as CI keeps only what is printed.
export default class SummaryReporter implements Reporter {
  private passed = 0;
  private failed = 0;

  onTestEnd(test: TestCase, result: TestResult) {
    // Anything but a pass counts against: a skipped test is not a pass.
    if (result.status === 'passed' && test.expectedStatus === 'passed') {
      this.passed += 1;
      return;
    }
    this.failed += 1;
    for (const a of result.attachments) {
      if (a.name !== 'error-context' || !a.path) continue;
      try {
        const context = readFileSync(a.path, 'utf8');
        const at = context.indexOf('# Page snapshot');
        if (at >= 0) console.log(`what the page showed when "${test.title}" failed:\n${context.slice(at, at + 4000)}`);
      } catch {
        // No snapshot was written (the page had closed): the error says enough.
      }
    }
  }

  onEnd(_result: FullResult) {
    console.log(`e2e: ${this.passed} passed, ${this.failed} failed`);
  }
}
