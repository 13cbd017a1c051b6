// `npm test`: every tier, in order — the fast CPU backend's WebAssembly kernels (built from their
// AssemblyScript sources when stale, scripts/build-wasm.mjs), types, unit and kernel tests (Vitest, WebGPU through Dawn),
// the exported Hugging Face folders in Python (pytest: transformers, tokenizers, ONNX Runtime, in
// the venv of scripts/python-env.mjs), then the page in real Chromium (Playwright). Fails on the
// first tier that fails.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { findChromium } from './chromium.mjs'
import { gpuEnvironment } from './gpu-env.mjs'
import { ensurePythonEnv } from './python-env.mjs'
import { tallyPlaywright, tallyPytest, tallyVitest } from './test-tally.mjs'

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

/** Run one tier and count its tests from its report (removed first: a stale one must not count). */
function run(name, cmd, args, report, tally) {
  if (report) rmSync(report, { force: true })
  const t0 = Date.now()
  console.log(`\n[test] ${name}: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', env })
  console.log(`[test] ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  let counted = { passed: 0, failed: 0 }
  if (report) try { counted = tally(readFileSync(report, 'utf8')) } catch { /* no report: counted below */ }
  // a tier that failed without naming a failed test (it crashed, or wrote no report) is a failure too
  if (r.status !== 0 && counted.failed === 0) counted.failed = 1
  totals.passed += counted.passed
  totals.failed += counted.failed
  // a skipped Python test exits 0 but is counted failed: the tier fails with it
  return r.status === 0 && counted.failed === 0
}

/** The venv, made when missing or stale: before the unit tier, whose CPU-bench harness test runs
 *  PyTorch in it within a time limit. No Python or no packages is a failure, never a skip. */
function pythonEnv() {
  try {
    return ensurePythonEnv((line) => console.log(line))
  } catch (e) {
    console.error(`[test] python: FAILED: ${e.message}`)
    totals.failed += 1
    return null
  }
}

/** pytest in the venv. */
function pythonTier(python) {
  if (!python) return false
  return run('python', python, ['-m', 'pytest', 'python/tests', '-p', 'no:cacheprovider', '--junitxml=test-results/pytest.xml'],
    'test-results/pytest.xml', tallyPytest)
}

let ok = run('wasm kernels', process.execPath, ['scripts/build-wasm.mjs'])
const python = ok ? pythonEnv() : null
ok = ok && python !== null
ok = ok && run('types', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'])
ok = ok && run('unit + kernels', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json'],
  'test-results/vitest.json', (text) => tallyVitest(JSON.parse(text)))
ok = ok && pythonTier(python)
ok = ok && run('end to end', 'npx', ['playwright', 'test', '--reporter=list,json'], 'test-results/playwright.json',
  (text) => tallyPlaywright(JSON.parse(text)))

console.log(`\n[test] ${ok ? 'all tiers passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`)
process.exit(ok ? 0 : 1)
