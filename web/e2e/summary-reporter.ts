import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

// The one line CI reads: "e2e: N passed, N failed".
export default class SummaryReporter implements Reporter {
  private passed = 0;
  private failed = 0;

  onTestEnd(test: TestCase, result: TestResult) {
    // Anything but a pass counts against: a skipped test is not a pass.
    if (result.status === 'passed' && test.expectedStatus === 'passed') this.passed += 1;
    else this.failed += 1;
  }

  onEnd(_result: FullResult) {
    console.log(`e2e: ${this.passed} passed, ${this.failed} failed`);
  }
}
