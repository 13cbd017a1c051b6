export interface Tally { passed: number; failed: number }
export interface VitestReport {
  success?: boolean
  numPassedTests?: number
  numFailedTests?: number
  testResults?: { name?: string; status: string; message?: string; assertionResults?: { title?: string; status: string; failureMessages?: string[] }[] }[]
}
export interface PlaywrightReport { stats: { expected: number; unexpected: number; skipped?: number }; errors?: unknown[] }
export function tallyVitest(report: VitestReport): Tally
export function tallyPlaywright(report: PlaywrightReport): Tally
export function tallyPytest(junitXml: string): Tally
