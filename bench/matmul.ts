// Matmul throughput of the engine: the WGSL 4×4 register-tiled kernel on whatever WebGPU
// adapter Node finds, against the CPU backend's TypeScript loop, in the same run.
// Run: npm run bench:matmul
import type { Backend, MatmulArgs } from '../src/engine/backend'
import { adapterLabel, whole } from '../src/engine/backend'
import { CpuBackend } from '../src/engine/cpu/cpuBackend'
import { createNodeWebGPUBackend } from '../src/engine/node'

interface Shape { name: string; M: number; N: number; K: number; transA?: boolean; transB?: boolean }

const SHAPES: Shape[] = [
  { name: 'square 256³', M: 256, N: 256, K: 256 },
  { name: 'linear fwd x·Wᵀ (BT=256, C=64 → 4C)', M: 256, N: 256, K: 64, transB: true },
  { name: 'weight grad dyᵀ·x (4C×C over BT=256)', M: 256, N: 64, K: 256, transA: true },
]

async function time(be: Backend, s: Shape, minMs: number): Promise<number> {
  const mk = (n: number) => { const t = whole(be.createBuffer(n, 'f32', 'bench')); be.write(t, Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5)); return t }
  const args: MatmulArgs = { out: mk(s.M * s.N), a: mk(s.M * s.K), b: mk(s.K * s.N), M: s.M, N: s.N, K: s.K, transA: s.transA, transB: s.transB }
  be.matmul(args); await be.sync() // warm-up: pipeline creation
  let reps = 1
  for (;;) {
    const t0 = performance.now()
    for (let r = 0; r < reps; r++) be.matmul(args)
    await be.sync()
    const ms = performance.now() - t0
    if (ms >= minMs) return (2 * s.M * s.N * s.K * reps) / (ms * 1e6) // GFLOP/s
    reps *= 2
  }
}

const gpu = await createNodeWebGPUBackend()
const cpu = new CpuBackend('f32')
console.log(`adapter: ${adapterLabel(gpu.describe())}\n`)
console.log('| shape | WebGPU GFLOP/s | CPU backend GFLOP/s | ratio |')
console.log('|---|---:|---:|---:|')
for (const s of SHAPES) {
  const g = await time(gpu, s, 500)
  const c = await time(cpu, s, 500)
  console.log(`| ${s.name} | ${g.toFixed(2)} | ${c.toFixed(2)} | ${(g / c).toFixed(2)}× |`)
}
gpu.destroy()
process.exit(0)
