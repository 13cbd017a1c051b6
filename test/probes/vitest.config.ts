// Test files that are meant to fail, run by test/unit/tally.test.ts and test/gpu/helpers.test.ts
// in a child Vitest to show what the shared helpers and the closing tally make of them.
import { defineConfig } from 'vitest/config'
import { gpuEnvironment } from '../../scripts/gpu-env.mjs'

Object.assign(process.env, gpuEnvironment().env)

export default defineConfig({
  test: {
    root: `${__dirname}/../..`,
    include: ['test/probes/*.probe.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
