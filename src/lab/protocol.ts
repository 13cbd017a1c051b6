// Messages between the page and the training worker (start / pause / resume / step / stop, as in
// Sequence Toy). Plain data only: a message never carries code.
import type { AdapterDescription } from '../engine/backend'
import type { BackendPreference } from '../engine/browser'
import type { RunConfig } from '../rl/config'
import type { Metrics, TraceRecord, TrainerSnapshot } from '../rl/trainer'

export type RunState = 'idle' | 'running' | 'paused' | 'done'
export type ModelFormat = 'safetensors' | 'onnx' | 'hf'

export type ToWorker =
  /** webgpu (falling back to the fast CPU backend), cpu (the fast CPU backend), reference (the TypeScript one) */
  | { type: 'init'; backend: BackendPreference }
  /** a new run (or one resumed from a snapshot); `paused` creates it without running, `stepOnce` then takes one step */
  | { type: 'start-grpo'; config: Partial<RunConfig>; paused?: boolean; stepOnce?: boolean; resume?: TrainerSnapshot
      /** the base checkpoint's bytes when this browser holds it (pretrained here); else it is fetched */
      baseBytes?: Uint8Array
      /** where to fetch the base checkpoint: the page's own origin, or one the visitor allowed (src/lab/modelSource.ts) */
      modelUrl?: string }
  /** next-token pretraining of a base model for the config's task and model shape */
  | { type: 'pretrain'; config: Partial<RunConfig>; steps: number }
  | { type: 'cancel-pretrain' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step' }
  | { type: 'stop' }
  /** pause between steps, in milliseconds (the speed control) */
  | { type: 'speed'; delayMs: number }
  /** the live model as safetensors (the default), ONNX (with a KV cache, src/export/onnx.ts) or a
   *  Hugging Face folder in a .zip (src/export/hf.ts; heldOut: the run's last evaluation, for its card) */
  | { type: 'export-model'; format?: ModelFormat; heldOut?: { passAt1: number; problems: number } }
  /** the run as a TRL project in a .zip (src/export/trlProject.ts), starting from its base model (given
   *  or fetched as for start-grpo; fresh weights of its seed when base_model is '') or, with `current`,
   *  from the live run's model now (and the live run's config) */
  | { type: 'export-trl'; config: Partial<RunConfig>; current?: boolean; baseBytes?: Uint8Array; modelUrl?: string }
  /** per-token log-probs of one group's completions under the current policy (the worksheet) */
  | { type: 'group-logp'; requestId: number; prompt: string; completions: string[] }
  /** tests: destroy the GPU device (GPUDevice.destroy(): a real loss, as a driver reset) */
  | { type: 'debug-lose-device' }

/** What the worker was doing when its device was lost. */
export type Activity = 'training' | 'evaluation' | 'pretraining'

export type FromWorker =
  | { type: 'ready'; adapter: AdapterDescription; fallbackReason?: string }
  | { type: 'grpo-step'; metrics: Metrics; trace: TraceRecord }
  | { type: 'eval'; step: number; metrics: Metrics }
  | { type: 'snapshot'; snapshot: TrainerSnapshot }
  | { type: 'state'; state: RunState }
  /** something that takes a while; fraction null = unknown length; done removes the bar */
  | { type: 'progress'; task: string; label: string; fraction: number | null; done?: boolean }
  | { type: 'model'; bytes: Uint8Array; name: string }
  /** a base model pretrained in the worker, named after its task */
  | { type: 'pretrained'; name: string; bytes: Uint8Array; loss: number; steps: number }
  /** the worksheet's answer: its log-probs, or why there are none (that request only; no alert) */
  | { type: 'group-logp'; requestId: number; logp: number[][] }
  | { type: 'group-logp-error'; requestId: number; message: string }
  /** the base checkpoint could not be fetched or read: the page offers fresh weights */
  | { type: 'base-model-error'; file: string; message: string }
  | { type: 'error'; message: string }
  /** the GPU device is gone; the worker dropped it and acquires a new one for the next run or pretraining */
  | { type: 'device-lost'; message: string; during: Activity }

/** Where a bare base_model name ("addition") is served from: public/models/<name>.safetensors. */
export function baseModelUrl(name: string, baseUrl: string): string {
  return /^[\w-]+$/.test(name) ? `${baseUrl}models/${name}.safetensors` : name
}

/** Snapshots for resume are taken every this many steps (and when a run pauses or ends). */
export const SNAPSHOT_EVERY = 5
