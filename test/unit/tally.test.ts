// The closing line of `npm test` (scripts/test-tally.mjs) counts a file that failed outside
// its tests as failures, where Vitest's own numFailedTests says 0.
import { describe, expect, it } from 'vitest'
import { tallyPlaywright, tallyVitest } from '../../scripts/test-tally.mjs'
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
})

describe('tallyPlaywright', () => {
  it('counts unexpected results and errors outside tests', () => {
    expect(tallyPlaywright({ stats: { expected: 5, unexpected: 1 }, errors: [{ message: 'web server did not start' }] }))
      .toEqual({ passed: 5, failed: 2 })
    expect(tallyPlaywright({ stats: { expected: 5, unexpected: 0 }, errors: [] })).toEqual({ passed: 5, failed: 0 })
  })
})
