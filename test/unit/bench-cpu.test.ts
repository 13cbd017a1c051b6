// The CPU benchmark's harness (bench/cpu.ts, bench/python/torch_peer.py) at tiny shapes: the lab's
// CPU backends and PyTorch compute the same train step (the first gradient norm, same weights and
// batch, agrees), every side's rollout gives every sequence its tokens, and the ratios are there.
// No speed is asserted (DESIGN.md). TRL's whole step is the bench's --quick run (its start-up
// alone takes longer than this file should). Without the venv's Python this fails, never skips;
// the bench itself then stops before it starts, saying what is missing.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'bench-cpu-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const tsx = import.meta.resolve('tsx')

describe('CPU benchmark harness', () => {
  it('runs the lab CPU backends and PyTorch on one tiny batch, like for like', () => {
    const out = join(dir, 'cpu.json')
    const r = spawnSync(process.execPath, ['--import', tsx, 'bench/cpu.ts', '--quick', '--no-trl', '--out', out], { encoding: 'utf8', timeout: 110_000 })
    expect(r.status, `bench/cpu.ts failed:\n${r.stderr}`).toBe(0)
    const j = JSON.parse(readFileSync(out, 'utf8'))
    expect(j.errors).toEqual([])
    expect(Object.keys(j.backends)).toEqual(['reference', 'cpu'])
    expect(j.backends.reference.threads).toBe(1)
    for (const b of ['reference', 'cpu']) {
      expect(j.train_step.grad_norm_rel_diff_vs_torch[b], b).toBeLessThan(1e-4)
      expect(j.train_step_vs_torch_cpu[b], b).toBeGreaterThan(0)
      expect(j.rollout_vs_torch_cpu[b], b).toBeGreaterThan(0)
      expect(j.scaling[1].grad_norm_rel_diff_vs_torch[b], b).toBeLessThan(1e-4)
    }
    // torch is set against each backend on that backend's threads
    for (const b of ['reference', 'cpu']) {
      const n = j.backends[b].threads
      expect(j.train_step.vs_torch_against[b], b).toMatch(new RegExp(`^torch_${n}_threads?(_passive)?$`))
      expect(j.rollout.vs_torch_against[b], b).toMatch(new RegExp(`^torch_${n}_threads?(_passive)?$`))
    }
    for (const [side, x] of Object.entries(j.rollout.sides) as [string, { completion_lengths_ok: boolean }][]) {
      expect(x.completion_lengths_ok, side).toBe(true)
    }
    expect(j.train_step.sides.torch_1_thread.grad_norm_first).toBeGreaterThan(0)
  }, 120_000)

  it('stops before it starts when Python is missing, saying so', () => {
    const r = spawnSync(process.execPath, ['scripts/bench.mjs', '--quick', '--no-webgpu', '--out', join(dir, 'never.json')], {
      encoding: 'utf8', env: { ...process.env, PYTHON: join(dir, 'no-such-python') }, timeout: 30_000,
    })
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/CPU part \(PyTorch and TRL peers\) needs the Python/)
    expect(r.stderr).toMatch(/no Python found/)
    expect(r.stderr).toMatch(/--no-cpu/)
  })
})
