// Shared by the fuzz tests of the lab's readers: every case is timed and counted, and a refusal
// must be the reader's own error class with a message naming what is wrong — never a RangeError,
// TypeError or other exception from the runtime.
import { expect } from 'vitest'

/** Seeds of the fuzzers: fixed, so that a failure reproduces. */
export const FUZZ_SEED = 20261201
/** A generous bound on one case on a loaded 2-core machine; a lying length that made the reader
 *  allocate or loop over it would take far longer (or crash). */
export const MAX_CASE_MS = 2000

export class FuzzLog {
  cases = 0
  refused = 0
  maxMs = 0
  /** `errorClasses`: the reader's own errors (any other exception fails the case) */
  constructor(readonly errorClasses: (new (...args: never[]) => Error)[], readonly message: RegExp) {}

  /** Run one case; returns the reader's result, or undefined when it refused (as it must, cleanly). */
  run<T>(read: () => T): T | undefined {
    const t0 = performance.now()
    let result: T | undefined
    let error: unknown
    try { result = read() } catch (e) { error = e }
    const ms = performance.now() - t0
    this.cases++
    this.maxMs = Math.max(this.maxMs, ms)
    expect(ms, `one case took ${ms.toFixed(0)} ms`).toBeLessThan(MAX_CASE_MS)
    if (error === undefined) return result
    this.refused++
    if (!this.errorClasses.some((c) => error instanceof c)) {
      throw new Error(`expected a ${this.errorClasses.map((c) => c.name).join(' or ')}, got ${String(error)}`, { cause: error })
    }
    expect((error as Error).message).toMatch(this.message)
    expect((error as Error).message.length).toBeLessThan(1000) // names the problem; never echoes a huge value
    return undefined
  }

  /** A case that must be refused. */
  refuse(read: () => unknown, why?: RegExp): string {
    let message = ''
    const before = this.refused
    this.run(() => {
      try { return read() } catch (e) { message = (e as Error).message; throw e }
    })
    // counted, not read off the result: a reader that accepts and returns undefined must fail too
    expect(this.refused, 'a hostile input was accepted').toBe(before + 1)
    if (why) expect(message).toMatch(why)
    return message
  }

  summary(name: string): string {
    return `${name}: ${this.cases} cases, ${this.refused} refused, slowest ${this.maxMs.toFixed(1)} ms`
  }
}
