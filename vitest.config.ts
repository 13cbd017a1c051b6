import { defineConfig } from 'vitest/config'
import { gpuEnvironment } from './scripts/gpu-env.mjs'

// Test workers inherit this process's environment: point Dawn at a Vulkan driver
// (SwiftShader from Debian's chromium when the machine has no GPU) before they start.
const { env } = gpuEnvironment()
Object.assign(process.env, env)

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // two cores: GPU test files each hold a SwiftShader device, so run two at a time at most
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
