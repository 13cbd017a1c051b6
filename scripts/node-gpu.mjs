#!/usr/bin/env node
// Run a TypeScript entry point in Node with WebGPU ready: sets the Vulkan environment
// (scripts/gpu-env.mjs) for a child Node, which loads the entry through tsx.
import { spawnSync } from 'node:child_process'
import { gpuEnvironment } from './gpu-env.mjs'

const [entry, ...args] = process.argv.slice(2)
if (!entry) { console.error('usage: node scripts/node-gpu.mjs ENTRY.ts [args…]'); process.exit(2) }
const { env } = gpuEnvironment()
const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], { stdio: 'inherit', env: { ...process.env, ...env } })
process.exit(r.status ?? 1)
