// The page's state: what the worker reported, and the worker itself.
import { create } from 'zustand'
import type { AdapterDescription } from '../engine/backend'
import { DEFAULT_ENGINE_DEMO, type EngineDemoConfig, type FromWorker, type StepReport, type ToWorker } from '../lab/protocol'
import type { RunConfig } from '../rl/config'
import type { Metrics, TraceRecord } from '../rl/trainer'

export interface LabState {
  adapter: AdapterDescription | null
  fallbackReason: string | null
  runState: 'loading' | 'idle' | 'running' | 'paused' | 'done'
  config: EngineDemoConfig
  reports: StepReport[]
  samples: { step: number; text: string }[]
  grpoMetrics: Metrics[]
  grpoTrace: TraceRecord | null
  error: string | null
  connect(): void
  send(m: ToWorker): void
  start(): void
  startGrpo(config: Partial<RunConfig>): void
  setConfig(patch: Partial<EngineDemoConfig>): void
}

let worker: Worker | null = null

export const useLab = create<LabState>((set, get) => ({
  adapter: null,
  fallbackReason: null,
  runState: 'loading',
  config: DEFAULT_ENGINE_DEMO,
  reports: [],
  samples: [],
  grpoMetrics: [],
  grpoTrace: null,
  error: null,

  connect() {
    if (worker) return
    worker = new Worker(new URL('../lab/worker.ts', import.meta.url), { type: 'module' })
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data
      switch (m.type) {
        case 'ready': set({ adapter: m.adapter, fallbackReason: m.fallbackReason ?? null, runState: 'idle' }); break
        case 'step': set((s) => ({ reports: [...s.reports, m.report] })); break
        case 'sample': set((s) => ({ samples: [...s.samples, { step: m.step, text: m.text }] })); break
        case 'grpo-step': set((s) => ({ grpoMetrics: [...s.grpoMetrics, m.metrics], grpoTrace: m.trace })); break
        case 'state': set({ runState: m.state }); break
        case 'error': set({ error: m.message }); break
      }
    }
    worker.onerror = (e) => set({ error: `the training worker failed: ${e.message}` })
    const wanted = new URLSearchParams(location.search).get('backend') === 'cpu' ? 'cpu' : 'webgpu'
    worker.postMessage({ type: 'init', backend: wanted } satisfies ToWorker)
  },

  send(m) { worker?.postMessage(m) },

  start() {
    set({ reports: [], samples: [], error: null })
    get().send({ type: 'start', config: get().config })
  },

  startGrpo(config) {
    set({ grpoMetrics: [], grpoTrace: null, reports: [], samples: [], error: null })
    get().send({ type: 'start-grpo', config })
  },

  setConfig(patch) { set((s) => ({ config: { ...s.config, ...patch } })) },
}))
