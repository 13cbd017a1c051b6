// `npm test`: every tier, in order — types, unit and kernel tests (Vitest, WebGPU through Dawn),
// then the page in real Chromium (Playwright). Fails on the first tier that fails.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { findChromium } from './chromium.mjs'
import { gpuEnvironment } from './gpu-env.mjs'

const started = Date.now()
const gpu = gpuEnvironment()
console.log(`[test] WebGPU in Node: ${gpu.note}`)
try {
  console.log(`[test] Chromium: ${findChromium()}`)
} catch (e) {
  console.error(`[test] ${e.message}`)
  process.exit(1)
}
mkdirSync('test-results', { recursive: true })
const env = { ...process.env, ...gpu.env, PLAYWRIGHT_JSON_OUTPUT_NAME: 'test-results/playwright.json' }
const totals = { passed: 0, failed: 0 }

function run(name, cmd, args) {
  const t0 = Date.now()
  console.log(`\n[test] ${name}: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', env })
  console.log(`[test] ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return r.status === 0
}

function count(file, read) {
  try { read(JSON.parse(readFileSync(file, 'utf8'))) } catch { /* a tier that did not run counts nothing */ }
}

let ok = run('types', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'])
ok = ok && run('unit + kernels', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json'])
count('test-results/vitest.json', (j) => { totals.passed += j.numPassedTests; totals.failed += j.numFailedTests })
ok = ok && run('end to end', 'npx', ['playwright', 'test', '--reporter=list,json'])
count('test-results/playwright.json', (j) => { totals.passed += j.stats.expected; totals.failed += j.stats.unexpected })

console.log(`\n[test] ${ok ? 'all tiers passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`)
process.exit(ok ? 0 : 1)
