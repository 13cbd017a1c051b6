// `grpo-lab record`: a preset's run recorded as a replay (src/lab/replay.ts) on the backend the page
// trains on when the browser has no WebGPU — the fast CPU backend with relaxed SIMD's fused
// multiply-add, as Chromium runs it (src/engine/cpu/fastCpuBrowser.ts; thread counts give the same
// bits: test/unit/fast-cpu-determinism.test.ts). The steps are those the page's worker takes
// (src/lab/worker.ts): trainStep, an evaluation every eval_every steps, nothing else in between,
// and the worksheet's log-probs asked between steps as the live worksheet asks for them.
import { setFlagsFromString } from 'node:v8'
import { adapterLabel, type Backend } from '../engine/backend'
import type { Checkpoint } from '../model/checkpoint'
import { completionLogprobs } from '../lab/groupLogprobs'
import { float32Text, keepsTrace, type Replay, REPLAY_FORMAT, REPLAY_VERSION, type ReplayWorksheetGroup } from '../lab/replay'
import { type EvalRecord, makeRunFile } from '../lab/runFile'
import type { RunConfig } from '../rl/config'
import { GRPOTrainer, type Metrics, type TraceRecord } from '../rl/trainer'
import { taskFor } from '../tasks/registry'

export interface RecordOptions {
  preset: string
  config: RunConfig
  base?: Checkpoint
  /** steps to record (the run's first ones; the config's schedule still spans max_steps) */
  steps: number
  traceEvery: number
  /** groups of each traced step with the worksheet's inputs */
  worksheetGroups: number
  threads: number
  command: string
  onStep?: (metrics: Metrics) => void
}

/** The page's no-WebGPU backend in Node: the fast CPU backend with relaxed SIMD (Node 20 needs V8's flag for it). */
export async function pageCpuBackend(threads: number): Promise<Backend> {
  setFlagsFromString('--experimental-wasm-relaxed-simd') // on by default from Node 22
  const { createFastCpuBackend } = await import('../engine/cpu/fastCpuNode')
  const be = await createFastCpuBackend({ threads, relaxed: true })
  if (!/relaxed FMA/.test(be.describe().description)) {
    be.destroy()
    throw new Error('this Node cannot run relaxed SIMD, so it cannot record on the page\'s CPU backend (WebAssembly SIMD + relaxed FMA)')
  }
  return be
}

/** The page's adapter label for a backend, less the thread count (any count gives the same bits). */
export const backendLabel = (be: Backend) => adapterLabel(be.describe()).replace(/, \d+ threads?\)/, ')')

export async function recordReplay(o: RecordOptions): Promise<Replay> {
  const t0 = performance.now()
  const be = await pageCpuBackend(o.threads)
  const trainer = GRPOTrainer.create(be, o.config, taskFor(o.config), o.base)
  const metrics: Metrics[] = []
  const traces: TraceRecord[] = []
  const evals: EvalRecord[] = []
  const worksheet: ReplayWorksheetGroup[] = []
  try {
    for (let s = 0; s < o.steps; s++) {
      const r = await trainer.trainStep()
      metrics.push(r.metrics)
      o.onStep?.(r.metrics)
      // as the worker: an evaluation right after the step, before anything else
      if (o.config.eval_every > 0 && trainer.step % o.config.eval_every === 0) evals.push({ step: trainer.step, metrics: await trainer.evaluate() })
      if (!keepsTrace(trainer.step, o.traceEvery)) continue
      traces.push(r.trace)
      for (let g = 0; g < Math.min(o.worksheetGroups, r.trace.groups.length); g++) {
        const group = r.trace.groups[g]
        const logp = await completionLogprobs(trainer.model, trainer.tokenizer, group.prompt, group.completions.map((c) => c.text), o.config.temperature)
        worksheet.push({ step: trainer.step, group: g, logp: logp.map((row) => row.map(float32Text)) })
      }
    }
    return {
      format: REPLAY_FORMAT, version: REPLAY_VERSION, preset: o.preset,
      backend: { kind: 'cpu', label: backendLabel(be) },
      steps: o.steps, trace_every: o.traceEvery,
      recorded: { command: o.command, minutes: Number(((performance.now() - t0) / 60000).toFixed(2)) },
      run: makeRunFile(`${o.preset} (recorded)`, o.config, metrics, traces, evals),
      worksheet,
    }
  } finally {
    trainer.destroy()
    be.destroy()
  }
}
