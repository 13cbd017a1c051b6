// Matmul throughput of the fast CPU backend (WebAssembly SIMD, threads) against the reference CPU
// backend (TypeScript), at the shapes of the default run's train step: 2 layers × 64 wide, vocab
// 29, 64 sequences × 96 positions (BT = 6144). Every linear layer's forward, input gradient and
// weight gradient, as src/model/gpt.ts calls them, and their sum as one step's matmul time.
// Run: npm run bench:cpu [-- --threads 1,2,4] (default: 1 and every core)
import { availableParallelism } from 'node:os'
import type { Backend, MatmulArgs } from '../src/engine/backend'
import { whole } from '../src/engine/backend'
import { CpuBackend } from '../src/engine/cpu/cpuBackend'
import { createFastCpuBackend } from '../src/engine/cpu/fastCpuNode'

interface Shape { name: string; M: number; N: number; K: number; transA?: boolean; transB?: boolean; perStep: number }

const BT = 64 * 96; const C = 64; const V = 29; const L = 2

/** One linear layer [out, in]: forward x·Wᵀ, input gradient dy·W, weight gradient dyᵀ·x. */
function linear(name: string, out: number, inp: number, perStep: number): Shape[] {
  return [
    { name: `${name} forward x·Wᵀ`, M: BT, N: out, K: inp, transB: true, perStep },
    { name: `${name} input grad dy·W`, M: BT, N: inp, K: out, perStep },
    { name: `${name} weight grad dyᵀ·x`, M: out, N: inp, K: BT, transA: true, perStep },
  ]
}

const SHAPES: Shape[] = [
  ...linear('qkv (3C×C)', 3 * C, C, L), ...linear('attn proj (C×C)', C, C, L),
  ...linear('fc (4C×C)', 4 * C, C, L), ...linear('mlp proj (C×4C)', C, 4 * C, L), ...linear('lm head (V×C)', V, C, 1),
]

function argsOf(be: Backend, s: Shape): MatmulArgs {
  const mk = (n: number) => { const t = whole(be.createBuffer(n, 'f32', 'bench')); be.write(t, Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5)); return t }
  return { out: mk(s.M * s.N), a: mk(s.M * s.K), b: mk(s.K * s.N), M: s.M, N: s.N, K: s.K, transA: s.transA, transB: s.transB }
}

/** Milliseconds per call: the best of five timed rounds of at least minMs each. */
function time(be: Backend, s: Shape, minMs: number): number {
  const args = argsOf(be, s)
  be.matmul(args) // warm-up
  let best = Infinity
  for (let round = 0; round < 5; round++) {
    let reps = 1
    for (;;) {
      const t0 = performance.now()
      for (let r = 0; r < reps; r++) be.matmul(args)
      const ms = performance.now() - t0
      if (ms >= minMs) { best = Math.min(best, ms / reps); break }
      reps *= 2
    }
  }
  for (const t of [args.out, args.a, args.b]) be.destroyBuffer(t.buffer)
  return best
}

const flag = process.argv.indexOf('--threads')
const threadCounts = flag > 0 ? process.argv[flag + 1].split(',').map(Number) : [...new Set([1, availableParallelism()])]
const backends: Backend[] = [new CpuBackend('f32')]
for (const threads of threadCounts) backends.push(await createFastCpuBackend({ threads }))
const gflops = (s: Shape, ms: number) => (2 * s.M * s.N * s.K) / (ms * 1e6)

console.log(`${availableParallelism()} cores; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}\n`)
console.log(`| shape (M×N×K) | ${backends.map((b) => b.describe().description.replace(/^CPU backend /, '')).join(' | ')} |`)
console.log(`|---|${backends.map(() => '---:').join('|')}|`)
const perStep = backends.map(() => 0)
for (const s of SHAPES) {
  const cells = backends.map((be, i) => {
    const ms = time(be, s, i === 0 ? 300 : 100)
    perStep[i] += ms * s.perStep
    return `${gflops(s, ms).toFixed(2)} GFLOP/s`
  })
  console.log(`| ${s.name} (${s.M}×${s.N}×${s.K}) | ${cells.join(' | ')} |`)
}
const total = SHAPES.reduce((sum, s) => sum + 2 * s.M * s.N * s.K * s.perStep, 0)
console.log(`| one train step's matmuls (${(total / 1e9).toFixed(2)} GFLOP) | ${perStep.map((ms) => `${ms.toFixed(0)} ms, ${(total / (ms * 1e6)).toFixed(1)} GFLOP/s`).join(' | ')} |`)
backends.forEach((b) => b.destroy())
