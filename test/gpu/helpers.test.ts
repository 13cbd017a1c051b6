// The shared WebGPU helper (test/helpers.ts useGpu) fails a test on a WebGPU error — which
// WebGPU reports asynchronously, never as an exception — and fails every test, never skips
// one, when no adapter can be had. The probes run in a child Vitest, so that what is checked
// is what Vitest makes of the helper's hooks.
import { describe, expect, it } from 'vitest'
import { whole, type Tensor } from '../../src/engine/backend'
import { tallyVitest } from '../../scripts/test-tally.mjs'
import { closeGpuErrorScopes, openGpuErrorScopes, runProbe, useGpu } from '../helpers'

const gpu = useGpu()

describe('GPU error scopes', () => {
  it('a dispatch binding a view larger than its buffer makes the check throw, naming the error', async () => {
    const small = gpu().createBuffer(64, 'f32', 'small')
    const tooLong: Tensor = { buffer: small, offset: 0, length: 1000 }
    openGpuErrorScopes(gpu())
    gpu().fill(tooLong, 0)
    await expect(closeGpuErrorScopes(gpu())).rejects.toThrow(/Binding size \(4000\) is larger than the size \(256\) of \[Buffer "small"\]/)
  })

  it('the same dispatch on a view that fits passes the check', async () => {
    const t = whole(gpu().createBuffer(64, 'f32', 'fits'))
    openGpuErrorScopes(gpu())
    gpu().fill(t, 1)
    await expect(closeGpuErrorScopes(gpu())).resolves.toBeUndefined()
  })
})

describe('useGpu in a test file (a child Vitest)', () => {
  it('fails the test that made a validation error, and only that one', () => {
    const [file] = runProbe('gpu.probe.ts').testResults ?? []
    const [bad, good] = file.assertionResults ?? []
    expect(bad.status).toBe('failed')
    expect(bad.failureMessages?.[0]).toMatch(/WebGPU reported \d+ error\(s\):\n.*Binding size \(4000\) is larger/)
    expect(good.status).toBe('passed')
  })

  it('with no adapter, fails every test with the reason, and the tally counts them', () => {
    const report = runProbe('gpu.probe.ts', { VK_ICD_FILENAMES: '/nonexistent.json' })
    const tests = report.testResults?.[0].assertionResults ?? []
    expect(tests.map((t) => t.status)).toEqual(['failed', 'failed'])
    for (const t of tests) expect(t.failureMessages?.[0]).toMatch(/no WebGPU adapter could be had/)
    expect(tallyVitest(report)).toEqual({ passed: 0, failed: 2 })
  })
})
