// The closing line of `npm test` (scripts/test-tally.mjs) counts a file that failed outside
// its tests as failures, where Vitest's own numFailedTests says 0; and pytest's skips and errors.
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { tallyPlaywright, tallyPytest, tallyVitest } from '../../scripts/test-tally.mjs'
import { runProbe } from '../helpers'

describe('tallyVitest', () => {
  it('counts the tests of a file that failed in beforeAll as failed (a real Vitest report)', () => {
    const report = runProbe('fails-in-before-all.probe.ts')
    expect(report.testResults?.[0].status).toBe('failed')
    expect(report.testResults?.[0].assertionResults?.map((t) => t.status)).toEqual(['skipped', 'skipped'])
    expect(report.numFailedTests).toBe(0) // what the tally used to print
    expect(tallyVitest(report)).toEqual({ passed: 0, failed: 2 })
  })

  it('counts the tests of a suite that failed in beforeAll as failed, next to a suite that passed (a real Vitest report)', () => {
    const report = runProbe('fails-in-describe-before-all.probe.ts')
    expect(report.testResults?.[0].assertionResults?.map((t) => t.status)).toEqual(['skipped', 'skipped', 'passed'])
    expect(report.numFailedTests).toBe(0)
    expect(tallyVitest(report)).toEqual({ passed: 1, failed: 2 })
  })

  it('counts failed tests of a file that ran, and passed ones', () => {
    const report = { success: false, testResults: [
      { status: 'failed', assertionResults: [{ status: 'passed' }, { status: 'failed' }, { status: 'passed' }] },
      { status: 'passed', assertionResults: [{ status: 'passed' }] },
    ] }
    expect(tallyVitest(report)).toEqual({ passed: 3, failed: 1 })
  })

  it('counts a file that failed with no tests (an import error) as one, and a failed run with no failed file as one', () => {
    expect(tallyVitest({ success: false, testResults: [{ status: 'failed', assertionResults: [] }] })).toEqual({ passed: 0, failed: 1 })
    expect(tallyVitest({ success: false, testResults: [{ status: 'passed', assertionResults: [{ status: 'passed' }] }] }))
      .toEqual({ passed: 1, failed: 1 })
    expect(tallyVitest({ success: true, testResults: [{ status: 'passed', assertionResults: [{ status: 'passed' }] }] }))
      .toEqual({ passed: 1, failed: 0 })
  })

  it('counts a skipped or todo test in a passing file as failed: the suite never skips', () => {
    const report = { success: true, testResults: [{ status: 'passed', assertionResults: [{ status: 'passed' }, { status: 'skipped' }, { status: 'todo' }] }] }
    expect(tallyVitest(report)).toEqual({ passed: 1, failed: 2 })
  })
})

describe('tallyPlaywright', () => {
  it('counts unexpected results and errors outside tests', () => {
    expect(tallyPlaywright({ stats: { expected: 5, unexpected: 1 }, errors: [{ message: 'web server did not start' }] }))
      .toEqual({ passed: 5, failed: 2 })
    expect(tallyPlaywright({ stats: { expected: 5, unexpected: 0 }, errors: [] })).toEqual({ passed: 5, failed: 0 })
    expect(tallyPlaywright({ stats: { expected: 5, unexpected: 0, skipped: 2 }, errors: [] })).toEqual({ passed: 5, failed: 2 })
  })
})

// Real pytest 9 reports (python -m pytest --junitxml): mixed.xml from a file with two passing
// tests, a failing one, a skipped one and one whose fixture raises; import-error.xml from a
// module that does not import; no-tests.xml from a folder with no tests (exit status 5).
const pytestReport = (name: string) => readFileSync(`test/fixtures/pytest/${name}`, 'utf8')

describe('tallyPytest', () => {
  it('counts failures, fixture errors and skips as failed (a real pytest report)', () => {
    expect(tallyPytest(pytestReport('mixed.xml'))).toEqual({ passed: 2, failed: 3 })
  })

  it('counts a module that failed to import as failed', () => {
    expect(tallyPytest(pytestReport('import-error.xml'))).toEqual({ passed: 0, failed: 1 })
  })

  it('counts a run that found no tests as one failure', () => {
    expect(tallyPytest(pytestReport('no-tests.xml'))).toEqual({ passed: 0, failed: 1 })
  })

  it('adds up every testsuite of the report', () => {
    const suite = (tests: number, failures: number) => `<testsuite name="pytest" errors="0" failures="${failures}" skipped="0" tests="${tests}">`
    expect(tallyPytest(`<testsuites name="pytest tests">${suite(4, 1)}</testsuite>${suite(3, 0)}</testsuite></testsuites>`))
      .toEqual({ passed: 6, failed: 1 })
  })
})
