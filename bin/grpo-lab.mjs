#!/usr/bin/env node
// The grpo-lab command. Starts Node on the TypeScript CLI (through tsx) with the Vulkan
// environment that Node's WebGPU needs (a GPU driver, or SwiftShader from Debian's chromium).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { gpuEnvironment } from '../scripts/gpu-env.mjs'

const entry = fileURLToPath(new URL('../src/cli/run.ts', import.meta.url))
const tsx = import.meta.resolve('tsx')
const { env } = gpuEnvironment()
const r = spawnSync(process.execPath, ['--import', tsx, entry, ...process.argv.slice(2)], {
  stdio: 'inherit', env: { ...process.env, ...env },
})
process.exit(r.status ?? 1)
