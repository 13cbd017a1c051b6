#!/usr/bin/env node
// `npm run bench`: grpo-lab against its peers, each part in one run with the sides taking turns.
//   WebGPU, in headless Chromium on whatever adapter it finds: a GRPO training step against
//     TensorFlow.js, rollout generation against onnxruntime-web (bench/main.ts, built with its own
//     Vite config, served, run through window.__bench()).
//   CPU, in Node on the same cores: the lab's CPU backends against PyTorch (train step, KV-cache
//     rollout) and TRL's GRPOTrainer (the whole GRPO step) (bench/cpu.ts; Python from
//     scripts/python-env.mjs — without it the bench fails before it starts, saying why).
// Prints markdown tables and writes the numbers as JSON.
//
//   node scripts/bench.mjs [--quick] [--out FILE] [--no-ort] [--scaling-tfjs] [--reps N] [--timeout S]
//                          [--no-webgpu | --no-cpu] [--no-trl]
//
// --quick: tiny dimensions, one repetition (checks the harness; writes test-results/bench-quick.json
// unless --out is given). Without it the results go to bench/results/latest.json.
import { spawnSync } from 'node:child_process'
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { dirname, extname, join, normalize, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CHROMIUM_ARGS, findChromium } from './chromium.mjs'
import { ensurePythonEnv } from './python-env.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ORT_DIR = join(ROOT, 'node_modules/onnxruntime-web/dist')

function parseArgs(argv) {
  const a = { quick: false, out: null, ort: true, scalingTfjs: undefined, reps: undefined, timeoutS: 2700, webgpu: true, cpu: true, trl: true }
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]
    const next = () => { if (i + 1 >= argv.length) fail(`${k} needs a value`); return argv[++i] }
    if (k === '--quick') a.quick = true
    else if (k === '--out') a.out = next()
    else if (k === '--no-ort') a.ort = false
    else if (k === '--scaling-tfjs') a.scalingTfjs = true
    else if (k === '--no-webgpu') a.webgpu = false
    else if (k === '--no-cpu') a.cpu = false
    else if (k === '--no-trl') a.trl = false
    else if (k === '--reps') { a.reps = Number(next()); if (!Number.isInteger(a.reps) || a.reps < 1 || a.reps > 50) fail('--reps: allowed an integer from 1 to 50') }
    else if (k === '--timeout') { a.timeoutS = Number(next()); if (!(a.timeoutS > 0)) fail('--timeout: seconds, > 0') }
    else if (k === '-h' || k === '--help') { console.log(`usage: node scripts/bench.mjs ${USAGE}`); process.exit(0) }
    else fail(`unknown option ${k}; allowed: ${USAGE}`)
  }
  if (!a.webgpu && !a.cpu) fail('--no-webgpu and --no-cpu: that leaves nothing to run; give one of them at most')
  a.out = resolve(a.out ?? (a.quick ? join(ROOT, 'test-results/bench-quick.json') : join(ROOT, 'bench/results/latest.json')))
  return a
}

const USAGE = '[--quick] [--out FILE] [--no-ort] [--scaling-tfjs] [--reps N] [--timeout S] [--no-webgpu | --no-cpu] [--no-trl]'

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
  const parts = []
  if (r.adapter) parts.push(webgpuMarkdown(r))
  if (r.cpu) parts.push(cpuMarkdown(r))
  if (r.errors?.length) parts.push(r.errors.map((e) => `- error: ${e}`).join('\n'))
  return parts.join('\n\n')
}

function webgpuMarkdown(r) {
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
  return lines.join('\n')
}

/** A peer setting's key as the tables show it: 'torch_2_threads_passive' → '2T passive'. */
const settingLabel = (key) => (key ? key.replace(/^[a-z_]*?_(\d+)_threads?/, '$1T').replace('_passive', ' passive') : '—')

/** Each lab backend against the peer's fastest setting in this run, whatever its threads. */
function fastestRow(f, sides, value) {
  const k = f?.against
  const labs = Object.keys(f ?? {}).filter((x) => x !== 'against')
  return `| … against the peer's fastest setting here (${settingLabel(k)}) | | | ${k ? value(sides[k]) : '—'} | ${labs.map((l) => ratio(f[l])).join(' / ')} |`
}

const backendName = (name) => `\`--backend ${name}\``

/** The CPU part: each lab CPU backend against PyTorch / TRL on as many threads. */
function cpuMarkdown(r) {
  const c = r.cpu
  const h = c.headline
  const lines = []
  const labs = Object.entries(c.backends ?? {})
  const load = (xs) => (xs ? xs.map((x) => x.toFixed(2)).join(' / ') : '—')
  lines.push(`CPU: ${c.machine?.cpu ?? '?'}, ${c.machine?.cores ?? '?'} cores, Node ${c.machine?.node ?? '?'}; load average ${load(c.load_average?.start)} at the start of this part, ${load(c.load_average?.end)} at its end (1 / 5 / 15 min).`)
  lines.push(`grpo-lab: ${labs.map(([k, b]) => `${backendName(k)} = ${b.label}`).join('; ')}. Peers: PyTorch ${c.torch?.torch ?? '?'} (transformers ${c.torch?.transformers ?? '?'}, GPT2LMHeadModel, ${c.torch?.attn_implementation ?? '?'} attention)${c.full_grpo_step ? `, TRL ${c.full_grpo_step.trl?.trl ?? '?'} GRPOTrainer` : ''}, each lab backend against the peer on as many threads (torch.set_num_threads), with OpenMP's faster wait policy of the two tried (nT = spinning, the default; nT passive = OMP_WAIT_POLICY=PASSIVE).`)
  if (h) lines.push(`Shape: ${h.n_layer} layers × ${h.n_embd} wide, ${h.n_head} heads, vocabulary ${h.vocab_size}; ${h.prompts_per_step} prompts × ${h.num_generations} completions = ${h.prompts_per_step * h.num_generations} sequences of ${h.prompt_length} prompt + ${h.completion_length} completion tokens.`)
  lines.push('')
  lines.push('| | threads | grpo-lab | peer | grpo-lab vs peer (higher: grpo-lab faster) |')
  lines.push('|---|---:|---:|---:|---:|')
  const row = (what, k, b, ours, against, sides, value, ratioOf) =>
    `| ${what}${backendName(k)} | ${b.threads} | ${value(ours)} | ${against?.[k] ? `${value(sides[against[k]])} (${settingLabel(against[k])})` : '—'} | ${ratio(ratioOf?.[k])} |`
  const ms = (x) => fmt(x?.median_ms, 0)
  const tps = (x) => int(x?.tokens_per_s)
  const ts = c.train_step
  if (ts) {
    labs.forEach(([k, b], i) => lines.push(row(i === 0 ? 'Train step (forward, log-softmax gather, GRPO loss, backward, clip, AdamW), ms — peer: PyTorch — ' : '… ',
      k, b, ts.sides[k], ts.vs_torch_against, ts.sides, ms, r.train_step_vs_torch_cpu)))
    lines.push(`| … PyTorch in each setting, ms | | | ${Object.entries(ts.sides).filter(([x]) => x.startsWith('torch_')).map(([x, v]) => `${settingLabel(x)} ${ms(v)}`).join(', ')} | |`)
    const torchFirst = ts.sides.torch_1_thread?.grad_norm_first
    lines.push(`| … gradient norm of the first step (same weights, same batch) | | ${labs.map(([k]) => fmt(ts.sides[k]?.grad_norm_first, 6)).join(' / ')} | ${fmt(torchFirst, 6)} | rel. diff ${labs.map(([k]) => ts.grad_norm_rel_diff_vs_torch?.[k]?.toExponential(1) ?? '—').join(' / ')} |`)
    lines.push(`| … achieved GFLOP/s | | ${labs.map(([k]) => fmt(ts.sides[k]?.gflops, 2)).join(' / ')} | ${labs.map(([k]) => fmt(ts.sides[ts.vs_torch_against?.[k]]?.gflops, 2)).join(' / ')} | |`)
    lines.push(fastestRow(ts.vs_torch_fastest, ts.sides, ms))
  }
  const ro = c.rollout
  if (ro) {
    labs.forEach(([k, b], i) => lines.push(row(i === 0 ? `Rollout with KV cache, tokens/s (${ro.sequences} × ${ro.new_tokens} new tokens, sampled) — peer: PyTorch, its own KV-cache loop — ` : '… ',
      k, b, ro.sides[k], ro.vs_torch_against, ro.sides, tps, r.rollout_vs_torch_cpu)))
    lines.push(`| … PyTorch in each setting, tokens/s | | | ${Object.entries(ro.sides).filter(([x]) => /^torch_\d/.test(x)).map(([x, v]) => `${settingLabel(x)} ${tps(v)}`).join(', ')} | |`)
    lines.push(`| … PyTorch through transformers' generate() instead, tokens/s | | | ${Object.entries(ro.sides).filter(([x]) => x.startsWith('torch_generate')).map(([x, v]) => `${settingLabel(x)} ${tps(v)}`).join(', ')} | |`)
    lines.push(fastestRow(ro.vs_torch_fastest, ro.sides, tps))
  }
  const f = c.full_grpo_step
  if (f) {
    labs.forEach(([k, b], i) => lines.push(row(i === 0 ? 'Whole GRPO step (rollout, rewards, advantages, loss, backward, AdamW), ms — peer: TRL GRPOTrainer on PyTorch — ' : '… ',
      k, b, f.sides[k], f.vs_trl_against, f.sides, ms, r.grpo_step_vs_trl_cpu)))
    if (r.full_grpo_step) lines.push(`| … WebGPU (${r.adapter?.label ?? 'the page'}; its step above) | all | ${fmt(r.full_grpo_step.median_ms, 0)} | ${ms(f.sides[f.trl_all_cores])} (${settingLabel(f.trl_all_cores)}) | ${ratio(r.grpo_step_vs_trl_cpu?.webgpu)} |`)
    lines.push(`| … TRL in each setting, ms | | | ${Object.entries(f.sides).filter(([x]) => x.startsWith('trl_')).map(([x, v]) => `${settingLabel(x)} ${ms(v)}`).join(', ')} | |`)
    lines.push(fastestRow(f.vs_trl_fastest, f.sides, ms))
    const len = (x) => (x?.mean_completion_length?.length ? fmt(x.mean_completion_length.reduce((a, b) => a + b, 0) / x.mean_completion_length.length) : '—')
    lines.push(`| … mean completion length over the steps (both stop at the end token) | | ${labs.map(([k]) => len(f.sides[k])).join(' / ')} | ${len(f.sides[f.vs_trl_fastest?.against])} | |`)
  }
  if (c.scaling?.length) {
    lines.push('')
    lines.push('How the CPU backends\' cost grows against PyTorch\'s (one repetition each; train step as above; rollout with the KV cache; PyTorch on each backend\'s threads, its faster wait policy):')
    lines.push('')
    lines.push('| varied | n_embd | G (×' + (h?.prompts_per_step ?? '') + ' prompts) | completion | backend | train step ms | PyTorch ms | vs PyTorch | rollout ms | PyTorch ms | vs PyTorch |')
    lines.push('|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|')
    for (const s of c.scaling) {
      for (const [k, b] of labs) {
        const cell = (part) => `${fmt(part?.median_ms?.[part?.vs_torch_against?.[k]], 0)} (${settingLabel(part?.vs_torch_against?.[k])})`
        lines.push(`| ${s.vary} | ${s.shape.n_embd} | ${s.shape.num_generations} | ${s.shape.completion_length} | ${k} (${b.threads}T) | ${fmt(s.train?.median_ms?.[k], 0)} | ${cell(s.train)} | ${ratio(s.train?.vs_torch?.[k])} | ${fmt(s.rollout?.median_ms?.[k], 0)} | ${cell(s.rollout)} | ${ratio(s.rollout?.vs_torch?.[k])} |`)
      }
    }
  }
  return lines.join('\n')
}

/** The WebGPU part: the bench page in headless Chromium; resolves with what window.__bench() does. */
async function runPage(args, deadline) {
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
  const killer = setTimeout(() => { console.error(`[bench] timed out after ${args.timeoutS} s (in the WebGPU part)`); process.exit(1) }, deadline - Date.now())
  try {
    const page = await browser.newPage()
    page.on('console', (m) => { const t = m.text(); if (t.startsWith('[bench]')) console.error(t); else if (m.type() === 'error' && !/VerifyEachNodeIsAssignedToAnEp/.test(t)) console.error(`[page] ${t}`) })
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`))
    await page.goto(url)
    await page.waitForFunction(() => window.__benchReady === true, null, { timeout: 60_000 })
    const options = { quick: args.quick, ort: args.ort }
    if (args.reps) { options.reps = args.reps; options.peerReps = args.reps }
    if (args.scalingTfjs !== undefined) options.scalingTfjs = args.scalingTfjs
    return await page.evaluate((o) => window.__bench(o), options)
  } finally {
    clearTimeout(killer)
    await browser.close()
    server.close()
  }
}

/** The CPU part: bench/cpu.ts in a Node of its own (TypeScript through tsx), its JSON read back. */
function runCpu(args, deadline) {
  const out = join(tmpdir(), `grpo-lab-bench-cpu-${process.pid}.json`)
  rmSync(out, { force: true })
  const cli = ['--import', import.meta.resolve('tsx'), join(ROOT, 'bench/cpu.ts'), '--out', out]
  if (args.quick) cli.push('--quick')
  if (args.reps) cli.push('--reps', String(args.reps))
  if (!args.trl) cli.push('--no-trl')
  console.error('[bench] CPU part: bench/cpu.ts')
  const r = spawnSync(process.execPath, cli, { stdio: ['ignore', 2, 2], timeout: Math.max(1000, deadline - Date.now()) })
  if (!existsSync(out)) {
    const why = r.error?.code === 'ETIMEDOUT' ? `timed out after ${args.timeoutS} s` : r.signal ? `was killed (${r.signal})` : `exited with status ${r.status}`
    return { errors: [`CPU part: bench/cpu.ts ${why} without writing its results (its messages are above)`] }
  }
  const cpu = JSON.parse(readFileSync(out, 'utf8'))
  rmSync(out, { force: true })
  return cpu
}

const RATIOS = ['train_step_vs_torch_cpu', 'rollout_vs_torch_cpu', 'grpo_step_vs_trl_cpu']

/** The CPU part's numbers under `cpu`, its ratios at the top next to the WebGPU ones. WebGPU's
 *  whole GRPO step (the page's, this run) is set against TRL on all the cores. */
function mergeCpu(result, cpu) {
  const { errors = [], ...rest } = cpu
  const ratios = Object.fromEntries(RATIOS.map((k) => [k, rest[k]]))
  for (const k of RATIOS) delete rest[k]
  result.cpu = rest
  for (const k of RATIOS) if (ratios[k]) result[k] = ratios[k]
  const trlAll = rest.full_grpo_step?.sides?.[rest.full_grpo_step?.trl_all_cores]
  if (trlAll && Number.isFinite(result.full_grpo_step?.median_ms)) {
    result.grpo_step_vs_trl_cpu = { ...result.grpo_step_vs_trl_cpu, webgpu: Math.round((trlAll.median_ms / result.full_grpo_step.median_ms) * 1000) / 1000 }
  }
  result.errors = [...(result.errors ?? []), ...errors]
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const t0 = Date.now()
  const loadStart = loadavg()
  const deadline = t0 + args.timeoutS * 1000
  // the CPU peers' Python, checked before the long WebGPU part: missing, the bench fails here
  if (args.cpu) {
    try {
      ensurePythonEnv((line) => console.error(line))
    } catch (e) {
      fail(`the CPU part (PyTorch and TRL peers) needs the Python of python/requirements.txt: ${e.message}. ` +
        '(--no-cpu runs the WebGPU part alone.)')
    }
  }
  const result = args.webgpu ? await runPage(args, deadline) : { quick: args.quick, date: new Date().toISOString(), errors: [] }
  if (args.cpu) mergeCpu(result, runCpu(args, deadline))
  result.wall_s = Math.round((Date.now() - t0) / 100) / 10
  // the machine's load over the whole run (1, 5, 15 min): the CPU part records its own as well
  const load = (xs) => xs.map((x) => Math.round(x * 100) / 100)
  result.load_average = { start: load(loadStart), end: load(loadavg()) }
  mkdirSync(dirname(args.out), { recursive: true })
  writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n')
  console.log(markdown(result))
  console.log(`\n[bench] ${result.errors.length ? `${result.errors.length} error(s); ` : ''}wrote ${args.out} in ${result.wall_s} s`)
  process.exit(result.errors.length ? 1 : 0)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(`[bench] ${e?.stack ?? e}`); process.exit(1) })
}
