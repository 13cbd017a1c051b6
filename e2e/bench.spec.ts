// The benchmark harness works: `node scripts/bench.mjs --quick` (tiny dimensions, one repetition)
// builds the bench page, runs grpo-lab, TensorFlow.js and onnxruntime-web side by side in
// headless Chromium on WebGPU, then the lab's CPU backends against PyTorch and TRL in Node and
// Python (bench/cpu.ts), and writes valid JSON. No speed is asserted (DESIGN.md: speed is
// measured in benchmarks, never asserted in tests); a missing adapter fails the run. The run is
// waited for until it exits, within a generous outer limit: a loaded machine is slow, not failing.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect, test } from '@playwright/test'
import { TRAINING_LIMIT } from './helpers'

/** Run a command to its end: exit status and what it printed. */
function run(command: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

test('npm run bench -- --quick writes the benchmark JSON', async () => {
  test.setTimeout(2 * TRAINING_LIMIT)
  const out = 'test-results/bench-quick.json'
  // the script's own limit, inside the test's: it then says where it was
  const r = await run(process.execPath, ['scripts/bench.mjs', '--quick', '--out', out, '--timeout', String(TRAINING_LIMIT * 1.8 / 1000)])
  expect(r.status, `bench --quick failed:\n${r.stderr}\n${r.stdout}`).toBe(0)
  expect(r.stdout).toContain('| GRPO train step')
  const j = JSON.parse(readFileSync(out, 'utf8'))
  expect(j.errors).toEqual([])
  expect(j.adapter.label).toMatch(/^WebGPU/)
  // the adapter's limits and features travel with the numbers
  expect(j.adapter_capabilities.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8)
  expect(j.adapter_capabilities.device_limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384)
  expect(Array.isArray(j.adapter_capabilities.features)).toBe(true)
  for (const k of ['train_step_ratio_vs_tfjs', 'rollout_ratio_vs_ort', 'rollout_ratio_vs_ort_no_cache']) {
    expect(Number.isFinite(j[k]) && j[k] > 0, k).toBe(true)
  }
  // like for like: both trainers start from the same weights and see the same batch
  expect(j.train_step.grad_norm_rel_diff).toBeLessThan(1e-3)
  expect(j.train_step.grpo_lab.engine.peak_bytes).toBeGreaterThan(0)
  // grpo-lab's KV-cache rollout reads back once; ORT reads the logits back once per position
  expect(j.rollout.kv_cache.grpo_lab.engine.readbacks).toBe(1)
  expect(j.rollout.kv_cache.onnxruntime_web.gpu_api.readbacks).toBeGreaterThanOrEqual(j.rollout.kv_cache.new_tokens)
  expect(j.readbacks_per_token.grpo_lab_kv_cache).toBeGreaterThan(0)
  expect(j.scaling.length).toBeGreaterThanOrEqual(2)
  // the CPU part: each CPU backend against PyTorch (train step, rollout) and TRL (whole GRPO step),
  // the page's WebGPU step against TRL too; PyTorch computes the lab's train step
  for (const b of ['reference', 'cpu']) {
    for (const k of ['train_step_vs_torch_cpu', 'rollout_vs_torch_cpu', 'grpo_step_vs_trl_cpu']) {
      expect(Number.isFinite(j[k]?.[b]) && j[k][b] > 0, `${k}.${b}`).toBe(true)
    }
    expect(j.cpu.train_step.grad_norm_rel_diff_vs_torch[b], b).toBeLessThan(1e-4)
  }
  expect(Number.isFinite(j.grpo_step_vs_trl_cpu.webgpu) && j.grpo_step_vs_trl_cpu.webgpu > 0).toBe(true)
  expect(r.stdout).toContain('| Whole GRPO step')
})
