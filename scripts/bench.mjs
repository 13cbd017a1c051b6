#!/usr/bin/env node
// `npm run bench`: grpo-lab against TensorFlow.js (a GRPO training step) and onnxruntime-web
// (rollout generation), both on WebGPU, in headless Chromium on whatever adapter it finds.
// Builds bench/ (its own Vite config), serves it, runs window.__bench() in the page, prints a
// markdown table and writes the numbers as JSON.
//
//   node scripts/bench.mjs [--quick] [--out FILE] [--no-ort] [--scaling-tfjs] [--reps N] [--timeout S]
//
// --quick: tiny dimensions, one repetition (checks the harness; writes test-results/bench-quick.json
// unless --out is given). Without it the results go to bench/results/latest.json.
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, extname, join, normalize, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CHROMIUM_ARGS, findChromium } from './chromium.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ORT_DIR = join(ROOT, 'node_modules/onnxruntime-web/dist')

function parseArgs(argv) {
  const a = { quick: false, out: null, ort: true, scalingTfjs: undefined, reps: undefined, timeoutS: 1800 }
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]
    const next = () => { if (i + 1 >= argv.length) fail(`${k} needs a value`); return argv[++i] }
    if (k === '--quick') a.quick = true
    else if (k === '--out') a.out = next()
    else if (k === '--no-ort') a.ort = false
    else if (k === '--scaling-tfjs') a.scalingTfjs = true
    else if (k === '--reps') { a.reps = Number(next()); if (!Number.isInteger(a.reps) || a.reps < 1 || a.reps > 50) fail('--reps: allowed an integer from 1 to 50') }
    else if (k === '--timeout') { a.timeoutS = Number(next()); if (!(a.timeoutS > 0)) fail('--timeout: seconds, > 0') }
    else if (k === '-h' || k === '--help') { console.log('usage: node scripts/bench.mjs [--quick] [--out FILE] [--no-ort] [--scaling-tfjs] [--reps N] [--timeout S]'); process.exit(0) }
    else fail(`unknown option ${k}; allowed: --quick, --out FILE, --no-ort, --scaling-tfjs, --reps N, --timeout S`)
  }
  a.out = resolve(a.out ?? (a.quick ? join(ROOT, 'test-results/bench-quick.json') : join(ROOT, 'bench/results/latest.json')))
  return a
}

function fail(msg) {
  console.error(`bench: ${msg}`)
  process.exit(2)
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.map': 'application/json' }

/** A tiny static server: the built page at /, onnxruntime-web's wasm files at /ort/. */
function serve(pageDir) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    let path = decodeURIComponent(url.pathname)
    let base = pageDir
    if (path.startsWith('/ort/')) { base = ORT_DIR; path = path.slice(4) }
    if (path === '/favicon.ico') { res.writeHead(204); res.end(); return }
    if (path === '/' || path === '') path = '/index.html'
    const file = normalize(join(base, path))
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) { res.writeHead(404); res.end('not found'); return }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
    createReadStream(file).pipe(res)
  })
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)))
}

const fmt = (x, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—')
const int = (x) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—')
const mib = (x) => (typeof x === 'number' && Number.isFinite(x) ? (x / 1048576).toFixed(2) : '—')
const perDispatch = (ms, n) => (typeof ms === 'number' && n > 0 ? ms / n : undefined)
const ratio = (x) => (typeof x === 'number' && Number.isFinite(x) ? `${x.toFixed(2)}×` : '—')

/** The results as markdown tables (README's "Benchmarks" section shows the same). */
export function markdown(r) {
  const h = r.headline
  const lines = []
  lines.push(`Adapter: ${r.adapter.label}${r.quick ? ' (quick run: tiny dimensions)' : ''}`)
  lines.push('')
  lines.push(`Shape: ${h.n_layer} layers × ${h.n_embd} wide, ${h.n_head} heads, vocabulary ${h.vocab_size}; ${h.prompts_per_step} prompts × ${h.num_generations} completions = ${h.completions} sequences of ${h.prompt_length} prompt + ${h.completion_length} completion tokens.`)
  lines.push('')
  lines.push('| | grpo-lab | peer | ratio |')
  lines.push('|---|---:|---:|---:|')
  const ts = r.train_step
  if (ts) {
    lines.push(`| GRPO train step (fwd + bwd + AdamW), ms — peer: TF.js WebGPU ${ts.tfjs?.version ?? ''} | ${fmt(ts.grpo_lab.median_ms, 0)} | ${fmt(ts.tfjs?.median_ms, 0)} | ${ratio(r.train_step_ratio_vs_tfjs)} faster |`)
    lines.push(`| … dispatches / submits / readbacks per step | ${int(ts.grpo_lab.engine?.dispatches)} / ${int(ts.grpo_lab.engine?.submits)} / ${int(ts.grpo_lab.engine?.readbacks)} | ${int(ts.tfjs?.gpu_api.dispatches)} / ${int(ts.tfjs?.gpu_api.submits)} / ${int(ts.tfjs?.gpu_api.readbacks)} | |`)
    lines.push(`| … bytes up / down per step | ${int(ts.grpo_lab.engine?.bytes_up)} / ${int(ts.grpo_lab.engine?.bytes_down)} | ${int(ts.tfjs?.gpu_api.bytesUp)} / ${int(ts.tfjs?.gpu_api.bytesDown)} | |`)
    lines.push(`| … peak GPU memory, MiB | ${mib(ts.grpo_lab.engine?.peak_bytes)} | ${mib(ts.tfjs?.gpu_api.peakBytes)} | |`)
    lines.push(`| … achieved GFLOP/s | ${fmt(ts.grpo_lab.gflops, 2)} | ${fmt(ts.tfjs?.gflops, 2)} | |`)
    lines.push(`| … ms per dispatch (step time / dispatches) | ${fmt(perDispatch(ts.grpo_lab.median_ms, ts.grpo_lab.engine?.dispatches), 2)} | ${fmt(perDispatch(ts.tfjs?.median_ms, ts.tfjs?.gpu_api.dispatches), 2)} | |`)
    lines.push(`| … gradient norm of the first step (same weights, same batch) | ${fmt(ts.grpo_lab.grad_norm_first, 6)} | ${fmt(ts.tfjs?.grad_norm_first, 6)} | rel. diff ${ts.grad_norm_rel_diff?.toExponential(1) ?? '—'} |`)
  }
  for (const [mode, name] of [['kv_cache', 'with KV cache'], ['no_cache', 'without cache']]) {
    const e = r.rollout?.[mode]
    if (!e) continue
    const g = e.grpo_lab
    const o = e.onnxruntime_web
    lines.push(`| Rollout ${name}, tokens/s (${e.sequences} seq × ${e.new_tokens} new tokens) — peer: onnxruntime-web WebGPU EP | ${fmt(g.tokens_per_s)} | ${fmt(o?.tokens_per_s)} | ${ratio(e.ratio_tokens_per_s)} |`)
    lines.push(`| … dispatches / submits / readbacks per rollout | ${int(g.engine?.dispatches)} / ${int(g.engine?.submits)} / ${int(g.engine?.readbacks)} | ${int(o?.gpu_api.dispatches)} / ${int(o?.gpu_api.submits)} / ${int(o?.gpu_api.readbacks)} | |`)
    lines.push(`| … readbacks per generated token | ${g.readbacks_per_token?.toPrecision(3) ?? '—'} | ${o?.readbacks_per_token?.toPrecision(3) ?? '—'} | |`)
    lines.push(`| … bytes down per rollout | ${int(g.engine?.bytes_down)} | ${int(o?.gpu_api.bytesDown)} | |`)
    lines.push(`| … ms per dispatch (rollout time / dispatches) | ${fmt(perDispatch(g.median_ms, g.engine?.dispatches), 2)} | ${fmt(perDispatch(o?.median_ms, o?.gpu_api.dispatches), 2)} | |`)
    if (g.gflops !== undefined) lines.push(`| … achieved GFLOP/s | ${fmt(g.gflops, 2)} | ${fmt(o?.gflops, 2)} | |`)
  }
  const f = r.full_grpo_step
  if (f) {
    const last = f.steps[f.steps.length - 1]
    lines.push(`| Full GRPO step (GRPOTrainer: rollout + rewards + update), ms | ${fmt(f.median_ms, 0)} | | |`)
    lines.push(`| … dispatches / submits / readbacks / bytes up / bytes down / peak MiB | ${int(last.dispatches)} / ${int(last.submits)} / ${int(last.readbacks)} / ${int(last.bytes_up)} / ${int(last.bytes_down)} / ${mib(last.peak_bytes)} | | |`)
  }
  if (r.dispatch_floor) lines.push(`| Dispatch floor (${r.dispatch_floor.count} empty-ish dispatches, one submit), µs per dispatch | ${fmt(r.dispatch_floor.us_per_dispatch, 1)} | | |`)
  const prof = ts?.grpo_lab.profile
  if (prof) {
    lines.push('')
    lines.push(`Where grpo-lab's train step goes (its ${prof.dispatching_ops} ops replayed one at a time, each awaited: ${fmt(prof.total_ms, 0)} ms in all):`)
    lines.push('')
    lines.push('| op | calls | ms | share |')
    lines.push('|---|---:|---:|---:|')
    for (const x of prof.ops.slice(0, 8)) lines.push(`| ${x.op} | ${x.calls} | ${fmt(x.ms, 0)} | ${fmt(x.share * 100, 1)}% |`)
  }
  if (r.scaling?.length) {
    lines.push('')
    lines.push('How grpo-lab\'s cost grows (train step = forward + backward + AdamW over all completions; rollout with the KV cache):')
    lines.push('')
    lines.push('| varied | n_embd | G (×' + h.prompts_per_step + ' prompts) | completion | train step ms | dispatches | peak MiB | TF.js ms | rollout ms | rollout tokens/s | rollout dispatches |')
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const s of r.scaling) {
      lines.push(`| ${s.vary} | ${s.n_embd} | ${s.num_generations} | ${s.completion_length} | ${fmt(s.train_ms, 0)} | ${int(s.train_dispatches)} | ${mib(s.train_peak_bytes)} | ${fmt(s.tfjs_train_ms, 0)} | ${fmt(s.rollout_ms, 0)} | ${fmt(s.rollout_tokens_per_s)} | ${int(s.rollout_dispatches)} |`)
    }
  }
  if (r.errors?.length) {
    lines.push('')
    for (const e of r.errors) lines.push(`- error: ${e}`)
  }
  return lines.join('\n')
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const t0 = Date.now()
  // a build directory of this run's own, so that concurrent runs never serve each other's files
  const pageDir = mkdtempSync(join(tmpdir(), 'grpo-lab-bench-'))
  process.on('exit', () => rmSync(pageDir, { recursive: true, force: true }))
  console.error('[bench] building bench/ …')
  const { build } = await import('vite')
  await build({ configFile: join(ROOT, 'bench/vite.config.ts'), logLevel: 'warn', build: { outDir: pageDir, emptyOutDir: true } })
  const server = await serve(pageDir)
  const url = `http://127.0.0.1:${server.address().port}/`
  let chromium
  try {
    ({ chromium } = await import('playwright-core'))
  } catch {
    ({ chromium } = await import('@playwright/test'))
  }
  const browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS, headless: true })
  const killer = setTimeout(() => { console.error(`[bench] timed out after ${args.timeoutS} s`); process.exit(1) }, args.timeoutS * 1000)
  let result
  try {
    const page = await browser.newPage()
    page.on('console', (m) => { const t = m.text(); if (t.startsWith('[bench]')) console.error(t); else if (m.type() === 'error' && !/VerifyEachNodeIsAssignedToAnEp/.test(t)) console.error(`[page] ${t}`) })
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`))
    await page.goto(url)
    await page.waitForFunction(() => window.__benchReady === true, null, { timeout: 60_000 })
    const options = { quick: args.quick, ort: args.ort }
    if (args.reps) { options.reps = args.reps; options.peerReps = args.reps }
    if (args.scalingTfjs !== undefined) options.scalingTfjs = args.scalingTfjs
    result = await page.evaluate((o) => window.__bench(o), options)
  } finally {
    clearTimeout(killer)
    await browser.close()
    server.close()
  }
  result.wall_s = Math.round((Date.now() - t0) / 100) / 10
  mkdirSync(dirname(args.out), { recursive: true })
  writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n')
  console.log(markdown(result))
  console.log(`\n[bench] ${result.errors.length ? `${result.errors.length} error(s); ` : ''}wrote ${args.out} in ${result.wall_s} s`)
  process.exit(result.errors.length ? 1 : 0)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(`[bench] ${e?.stack ?? e}`); process.exit(1) })
}
