// The closing count of `npm test`, from the JSON reports of Vitest and Playwright and the
// JUnit XML report of pytest.

/**
 * Vitest's JSON report → tests passed and failed. A file that fails outside its tests (in
 * beforeAll, on import) lists its tests as skipped, and Vitest's numFailedTests leaves them
 * out: in a failed file every test that did not pass counts as failed, and a failed file with
 * no tests counts as one. A run that failed outside any file (an unhandled error) counts one.
 * A skipped or todo test counts as failed in any file: this suite never skips (a skip hides breakage).
 */
export function tallyVitest(report) {
  let passed = 0
  let failed = 0
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? []
    const ok = tests.filter((t) => t.status === 'passed').length
    passed += ok
    if (file.status === 'failed') failed += Math.max(1, tests.length - ok)
    else failed += tests.filter((t) => t.status !== 'passed').length
  }
  if (report.success === false && failed === 0) failed = 1
  return { passed, failed }
}

/** Playwright's JSON report → tests passed and failed; errors outside tests (a web server that never
 *  started) count too, and so do skipped tests (this suite never skips). */
export function tallyPlaywright(report) {
  return { passed: report.stats.expected, failed: report.stats.unexpected + (report.stats.skipped ?? 0) + (report.errors?.length ?? 0) }
}

/**
 * pytest's JUnit XML report (--junitxml) → tests passed and failed. A skipped test counts as
 * failed (the Python tier never skips), an error (in a fixture, or a module that did not import)
 * as failed, and a report with no tests at all (pytest's exit 5) as one failure.
 */
export function tallyPytest(xml) {
  let tests = 0
  let failed = 0
  for (const [suite] of xml.matchAll(/<testsuite\b[^>]*>/g)) {
    const attr = (name) => Number(new RegExp(`\\s${name}="(\\d+)"`).exec(suite)?.[1] ?? 0)
    tests += attr('tests')
    failed += attr('failures') + attr('errors') + attr('skipped')
  }
  if (tests === 0) return { passed: 0, failed: 1 }
  return { passed: tests - failed, failed }
}
