// Messages between the page and the training worker (start / pause / resume / step / stop, as in
// Sequence Toy). Plain data only: a message never carries code.
import type { AdapterDescription } from '../engine/backend'
import type { Counters } from '../engine/counters'
import type { RunConfig } from '../rl/config'
import type { Metrics, TraceRecord } from '../rl/trainer'

export interface EngineDemoConfig {
  seed: number
  steps: number
  batchSize: number
  seqLen: number
  nLayer: number
  nHead: number
  nEmbd: number
  learningRate: number
  backend: 'webgpu' | 'cpu'
}

export const DEFAULT_ENGINE_DEMO: EngineDemoConfig = {
  seed: 1, steps: 60, batchSize: 8, seqLen: 32, nLayer: 1, nHead: 2, nEmbd: 32, learningRate: 1e-2, backend: 'webgpu',
}

export type ToWorker =
  | { type: 'init'; backend: 'webgpu' | 'cpu' }
  | { type: 'start'; config: EngineDemoConfig }
  | { type: 'start-grpo'; config: Partial<RunConfig> }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step' }
  | { type: 'stop' }

export interface StepReport {
  step: number
  loss: number
  stepTimeMs: number
  counters: Counters
}

export type FromWorker =
  | { type: 'ready'; adapter: AdapterDescription; fallbackReason?: string }
  | { type: 'step'; report: StepReport }
  | { type: 'sample'; step: number; text: string }
  | { type: 'grpo-step'; metrics: Metrics; trace: TraceRecord }
  | { type: 'state'; state: 'idle' | 'running' | 'paused' | 'done' }
  | { type: 'error'; message: string }
