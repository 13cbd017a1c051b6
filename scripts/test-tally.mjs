// The closing count of `npm test`, from the JSON reports of Vitest and Playwright.

/**
 * Vitest's JSON report → tests passed and failed. A file that fails outside its tests (in
 * beforeAll, on import) lists its tests as skipped, and Vitest's numFailedTests leaves them
 * out: in a failed file every test that did not pass counts as failed, and a failed file with
 * no tests counts as one. A run that failed outside any file (an unhandled error) counts one.
 */
export function tallyVitest(report) {
  let passed = 0
  let failed = 0
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? []
    const ok = tests.filter((t) => t.status === 'passed').length
    passed += ok
    if (file.status === 'failed') failed += Math.max(1, tests.length - ok)
    else failed += tests.filter((t) => t.status === 'failed').length
  }
  if (report.success === false && failed === 0) failed = 1
  return { passed, failed }
}

/** Playwright's JSON report → tests passed and failed; errors outside tests (a web server that never started) count too. */
export function tallyPlaywright(report) {
  return { passed: report.stats.expected, failed: report.stats.unexpected + (report.errors?.length ?? 0) }
}
