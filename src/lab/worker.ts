/// <reference lib="webworker" />
// The training worker: owns the backend and the model, so the page never freezes.
// It runs the engine demo (next-token training on the synthetic rhyme) step by step,
// streaming a report per step and a sample of generated text every few steps.
import type { Backend } from '../engine/backend'
import { countersSince } from '../engine/counters'
import { createBrowserBackend } from '../engine/browser'
import { generate } from '../model/decode'
import { GPT } from '../model/gpt'
import { AdamW } from '../model/optimizer'
import { nextTokenStep } from '../model/train'
import { resolveRunConfig } from '../rl/config'
import { GRPOTrainer } from '../rl/trainer'
import { getTask } from '../tasks/registry'
import { rhymeBatch, rhymeTokenizer } from '../tasks/synthetic'
import type { EngineDemoConfig, FromWorker, ToWorker } from './protocol'

const post = (m: FromWorker) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m)

let backend: Backend | null = null
let run: { config: EngineDemoConfig; model: GPT; opt: AdamW; step: number } | null = null
let grpo: GRPOTrainer | null = null
// 'pausing': Pause was asked while a step is in flight; it becomes 'paused' once the step lands,
// so the page never sees a step arrive after it shows "paused".
let state: 'idle' | 'running' | 'pausing' | 'paused' | 'done' = 'idle'
let looping = false
const tokenizer = rhymeTokenizer()

function setState(s: Exclude<typeof state, 'pausing'>): void { state = s; post({ type: 'state', state: s }) }

function stopAll(): void {
  run?.model.destroy(); run?.opt.destroy(); run = null
  grpo?.destroy(); grpo = null
}

async function grpoStep(): Promise<void> {
  if (!grpo) return
  const { metrics, trace } = await grpo.trainStep()
  post({ type: 'grpo-step', metrics, trace })
  if (grpo.step >= grpo.config.max_steps) setState('done')
}

async function trainOneStep(): Promise<void> {
  if (grpo) return grpoStep()
  if (!run || !backend) return
  const { config, model, opt } = run
  const before = { ...backend.counters }
  const t0 = performance.now()
  const loss = await nextTokenStep(model, opt, rhymeBatch(tokenizer, config.batchSize, config.seqLen, config.seed, run.step))
  run.step++
  post({ type: 'step', report: { step: run.step, loss, stepTimeMs: performance.now() - t0, counters: countersSince(backend.counters, before) } })
  if (run.step % 20 === 0 || run.step === config.steps) {
    const out = await generate(model, { prompts: [tokenizer.encode('the ')], maxNewTokens: 24, temperature: 0, seed: config.seed })
    post({ type: 'sample', step: run.step, text: 'the ' + tokenizer.decode(out.completions[0]) })
  }
  if (run.step >= config.steps) setState('done')
}

async function loop(): Promise<void> {
  if (looping) return
  looping = true
  try {
    while (state === 'running') {
      await trainOneStep()
      await new Promise((r) => setTimeout(r, 0)) // let pause/stop messages in
    }
    if (state === 'pausing') setState('paused')
  } catch (err) {
    setState('idle')
    post({ type: 'error', message: (err as Error).message })
  } finally {
    looping = false
  }
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const msg = e.data
  try {
    switch (msg.type) {
      case 'init': {
        const choice = await createBrowserBackend(msg.backend)
        backend = choice.backend
        post({ type: 'ready', adapter: backend.describe(), fallbackReason: choice.fallbackReason })
        break
      }
      case 'start-grpo': {
        if (!backend) throw new Error('the engine is not ready yet')
        stopAll()
        const config = resolveRunConfig(msg.config)
        grpo = GRPOTrainer.create(backend, config, getTask(config.task))
        setState('running')
        void loop()
        break
      }
      case 'start': {
        if (!backend) throw new Error('the engine is not ready yet')
        stopAll()
        const c = msg.config
        const model = new GPT(backend, { vocabSize: tokenizer.vocabSize, blockSize: c.seqLen, nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd })
        model.initialize(c.seed)
        const opt = new AdamW(model, { learningRate: c.learningRate, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 })
        run = { config: c, model, opt, step: 0 }
        setState('running')
        void loop()
        break
      }
      case 'pause': if (state === 'running') { state = 'pausing'; if (!looping) setState('paused') } break
      case 'resume':
        if (state === 'pausing') state = 'running' // the step in flight simply goes on
        else if (state === 'paused') { setState('running'); void loop() }
        break
      case 'step': if (state === 'paused') await trainOneStep(); break
      case 'stop': setState('idle'); break
    }
  } catch (err) {
    post({ type: 'error', message: (err as Error).message })
  }
}
