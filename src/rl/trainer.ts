// The GRPO trainer. One step:
//   rollout: P prompts × G completions, sampled on the device (one readback of the tokens)
//   → decode, rule rewards (each function logged), DAPO dynamic sampling / overlong punishment
//   → advantages (kernel) → reference log-probs (β > 0) and old-policy log-probs (μ > 1)
//   → μ passes × steps_per_generation minibatches × gradient_accumulation_steps microbatches of
//     forward, GRPO loss (kernel), backward, and AdamW per minibatch
//   → one readback of the step's report (advantages, loss statistics, gradient norms).
// It imports nothing from the UI and runs unchanged in Node and in a Web Worker.

import type { Backend, Tensor } from '../engine/backend'
import { GRPO_STATS, GrpoStat, view, whole } from '../engine/backend'
import { type Counters, countersSince } from '../engine/counters'
import { hash32, Stream } from '../engine/rng'
import type { Checkpoint } from '../model/checkpoint'
import { loadInto } from '../model/checkpoint'
import { generate } from '../model/decode'
import { GPT } from '../model/gpt'
import { AdamW } from '../model/optimizer'
import { CharTokenizer, EOS_ID } from '../model/tokenizer'
import { documentBatch, nextTokenStep } from '../model/train'
import type { Problem, Task } from '../tasks/types'
import { contextOverflow, missingChars, type RunConfig, RunConfigError } from './config'
import { evaluateModel } from './evaluate'
import { sequenceWeights } from './loss'
import { hasReflection, rewardWeights, type ScoredCompletion, scoreCompletion } from './rewards'
import { scheduledLearningRate } from './schedule'

export type Metrics = Record<string, number>

export interface TraceCompletion {
  text: string
  rewards: Record<string, number>
  reward: number
  advantage: number
  length: number
  truncated: boolean
  correct: boolean
}

export interface TraceRecord {
  step: number
  groups: { prompt: string; answer: string; completions: TraceCompletion[] }[]
}

export interface StepResult {
  metrics: Metrics
  trace: TraceRecord
}

interface Rollout {
  problems: Problem[] // one per group
  promptIds: number[][] // one per completion
  completionIds: number[][]
  texts: string[]
  truncated: boolean[]
  scores: ScoredCompletion[]
  rounds: number
}

/** Slots of the per-step report buffer, each 64-float aligned so that it can be bound alone. */
const SLOT = 64

export class GRPOTrainer {
  step = 0
  readonly weights: number[]
  private readonly ref: GPT | null
  private readonly opt: AdamW
  private problemCursor = 0
  /** the cold start's last supervised loss, logged with the first GRPO step */
  private coldStartLoss: number | null = null
  /** called after each cold-start step (the lab shows a progress bar) */
  onColdStartProgress: ((done: number, total: number, loss: number) => void) | null = null

  private constructor(readonly backend: Backend, readonly config: RunConfig, readonly task: Task,
    readonly tokenizer: CharTokenizer, readonly model: GPT) {
    this.weights = rewardWeights(task, config.reward_weights)
    this.opt = new AdamW(model, {
      learningRate: config.learning_rate, beta1: config.adam_beta1, beta2: config.adam_beta2, eps: 1e-8,
      weightDecay: config.weight_decay, maxGradNorm: config.max_grad_norm,
    })
    this.ref = config.beta > 0 ? new GPT(backend, model.config) : null
    if (this.ref) backend.copy(this.ref.params, model.params) // frozen copy of the starting policy
  }

  /** A fresh model from the config's shape, or the given base checkpoint. */
  static create(backend: Backend, config: RunConfig, task: Task, base?: Checkpoint): GRPOTrainer {
    const tokenizer = base ? base.tokenizer : new CharTokenizer(task.alphabet)
    const missing = missingChars(task.alphabet, tokenizer.chars)
    if (missing) throw new RunConfigError('base_model', `its tokenizer lacks ${JSON.stringify(missing)}, which task '${task.id}' uses`)
    const model = new GPT(backend, base ? base.config : {
      vocabSize: tokenizer.vocabSize, blockSize: config.block_size, nLayer: config.n_layer, nHead: config.n_head, nEmbd: config.n_embd,
    })
    if (base) loadInto(model, base)
    else model.initialize(config.seed)
    // the config's rules checked this when the context was known from it; a loaded checkpoint's is known only now
    const overflow = contextOverflow(task, config.max_completion_length, model.config.blockSize, "the loaded model's context")
    if (overflow) {
      model.destroy()
      throw new RunConfigError('max_completion_length', `${overflow}; allowed: at most ${model.config.blockSize - task.maxPromptLength}`)
    }
    return new GRPOTrainer(backend, config, task, tokenizer, model)
  }

  /** DeepSeek-R1's cold start: cold_start_steps supervised steps on the task's worked examples
   *  (completion tokens only) with an AdamW of their own, before the first GRPO step. The
   *  reference model (β > 0) becomes the cold-started policy, as R1's is. */
  private async coldStart(): Promise<void> {
    const c = this.config
    const task = this.task
    if (!task.workedExample) return
    const B = c.prompts_per_step * c.num_generations
    const opt = new AdamW(this.model, {
      learningRate: c.cold_start_learning_rate, beta1: c.adam_beta1, beta2: c.adam_beta2, eps: 1e-8,
      weightDecay: 0, maxGradNorm: c.max_grad_norm,
    })
    try {
      for (let s = 0; s < c.cold_start_steps; s++) {
        const docs = Array.from({ length: B }, (_, b) => task.workedExample!(c.seed, s * B + b))
        this.coldStartLoss = await nextTokenStep(this.model, opt, documentBatch(this.tokenizer, docs, this.model.config.blockSize, true))
        this.onColdStartProgress?.(s + 1, c.cold_start_steps, this.coldStartLoss)
      }
    } finally {
      opt.destroy()
    }
    if (this.ref) this.backend.copy(this.ref.params, this.model.params)
  }

  /** The next prompts of the train split (a deterministic stream of problems per seed). */
  private nextProblems(n: number): Problem[] {
    const out: Problem[] = []
    for (let i = 0; i < n; i++) out.push(this.task.problem('train', this.config.seed, this.problemCursor++))
    return out
  }

  /** Sample G completions for each problem and score them. One readback. */
  private async sampleGroups(problems: Problem[], round: number): Promise<Omit<Rollout, 'rounds'>> {
    const c = this.config
    const G = c.num_generations
    const promptIds = problems.flatMap((p) => Array.from({ length: G }, () => this.tokenizer.encode(p.prompt)))
    const gen = await generate(this.model, {
      prompts: promptIds, maxNewTokens: c.max_completion_length, temperature: c.temperature, topK: c.top_k,
      seed: c.seed, stream: hash32((Stream.sample * 0x10000 + this.step * 16 + round) >>> 0),
    })
    const texts = gen.completions.map((ids) => this.tokenizer.decode(ids))
    const overlong = c.overlong_buffer_length > 0
      ? { maxLength: c.max_completion_length, buffer: c.overlong_buffer_length, factor: c.overlong_penalty_factor } : undefined
    const scores = texts.map((t, i) => scoreCompletion(this.task, this.weights, problems[Math.floor(i / G)], t, gen.completions[i].length, overlong))
    return { problems, promptIds, completionIds: gen.completions, texts, truncated: gen.truncated, scores }
  }

  /** The rollout, with DAPO dynamic sampling: keep groups whose rewards differ, refill, bounded. */
  private async rollout(): Promise<Rollout> {
    const c = this.config
    const G = c.num_generations
    const P = c.prompts_per_step
    let r = await this.sampleGroups(this.nextProblems(P), 0)
    if (!c.dynamic_sampling) return { ...r, rounds: 1 }
    const groupsOf = (x: typeof r) => x.problems.map((_, g) => ({
      problem: x.problems[g],
      idx: Array.from({ length: G }, (_, j) => g * G + j),
      src: x,
    }))
    const varied = (grp: ReturnType<typeof groupsOf>[number]) => {
      const rs = grp.idx.map((i) => grp.src.scores[i].total)
      return rs.some((v) => v !== rs[0])
    }
    let all = groupsOf(r)
    let kept = all.filter(varied)
    let rounds = 1
    while (kept.length < P && rounds < c.max_resample_rounds) {
      r = await this.sampleGroups(this.nextProblems(P), rounds++)
      const more = groupsOf(r)
      all = all.concat(more)
      kept = kept.concat(more.filter(varied))
    }
    // not enough varied groups: fill with equal-reward ones (they carry no policy gradient)
    const chosen = kept.slice(0, P).concat(all.filter((g) => !varied(g)).slice(0, Math.max(0, P - kept.length)))
    const pick = <T>(f: (src: typeof r, i: number) => T) => chosen.flatMap((g) => g.idx.map((i) => f(g.src, i)))
    return {
      problems: chosen.map((g) => g.problem),
      promptIds: pick((s, i) => s.promptIds[i]),
      completionIds: pick((s, i) => s.completionIds[i]),
      texts: pick((s, i) => s.texts[i]),
      truncated: pick((s, i) => s.truncated[i]),
      scores: pick((s, i) => s.scores[i]),
      rounds,
    }
  }

  /** One GRPO step. Resolves with DESIGN.md's metrics and the step's trace record. */
  async trainStep(): Promise<StepResult> {
    const be = this.backend
    const c = this.config
    const t0 = performance.now()
    // a resumed run (step > 0) carries the cold start in its weights already
    if (this.step === 0 && c.cold_start_steps > 0 && this.coldStartLoss === null) await this.coldStart()
    const before: Counters = { ...be.counters }
    const G = c.num_generations
    const ro = await this.rollout()
    const N = ro.texts.length
    const numGroups = N / G

    // ---- the batch: prompt + completion, inputs/targets shifted by one, completion mask ----
    const seqs = ro.promptIds.map((p, i) => p.concat(ro.completionIds[i]))
    const T = Math.max(...seqs.map((s) => s.length)) - 1
    const masked = (i: number) => c.mask_truncated_completions && ro.truncated[i]
    const counts = ro.completionIds.map((ids, i) => (masked(i) ? 0 : ids.length))
    const parts = c.steps_per_generation * c.gradient_accumulation_steps
    const Bm = N / parts
    const micro = Array.from({ length: parts }, (_, m) => {
      const inputs = new Uint32Array(Bm * T).fill(EOS_ID)
      const targets = new Uint32Array(Bm * T).fill(EOS_ID)
      const mask = new Float32Array(Bm * T)
      for (let b = 0; b < Bm; b++) {
        const i = m * Bm + b
        const s = seqs[i]
        for (let t = 0; t < s.length - 1; t++) { inputs[b * T + t] = s[t]; targets[b * T + t] = s[t + 1] }
        if (!masked(i)) {
          const p = ro.promptIds[i].length
          for (let t = p - 1; t < p - 1 + ro.completionIds[i].length; t++) mask[b * T + t] = 1
        }
      }
      return { inputs, targets, mask, counts: counts.slice(m * Bm, (m + 1) * Bm) }
    })

    const made: Tensor[] = []
    const t = (n: number, label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor => {
      const x = whole(be.createBuffer(n, dtype, label)); made.push(x); return x
    }
    // per-step report: advantages | std | zero-std flags | loss stats per microbatch pass | grad norms
    const aligned = (n: number) => Math.ceil(n / SLOT) * SLOT
    const passes = c.num_iterations * parts
    const optSteps = c.num_iterations * c.steps_per_generation
    const offAdv = 0; const offStd = aligned(N); const offZero = offStd + aligned(N)
    const offStats = offZero + aligned(numGroups); const offNorm = offStats + passes * SLOT
    const report = t(offNorm + optSteps * SLOT, 'grpo.report')
    be.fill(report, 0)

    // ---- advantages on the device ----
    const rewards = t(N, 'grpo.rewards')
    be.write(rewards, ro.scores.map((s) => s.total))
    const advantages = view(report.buffer, offAdv, N)
    be.advantages({ rewards, advantages, std: view(report.buffer, offStd, N), zeroStdGroups: view(report.buffer, offZero, numGroups),
      numGroups, G, scale: c.scale_rewards })

    // ---- per-microbatch inputs (uploaded once), then reference and old-policy log-probs ----
    const io = micro.map((mb, m) => {
      const x = {
        tokens: t(Bm * T, `grpo.tokens.${m}`, 'u32'), targets: t(Bm * T, `grpo.targets.${m}`, 'u32'),
        mask: t(Bm * T, `grpo.mask.${m}`), weights: t(Bm, `grpo.weights.${m}`),
        ref: null as Tensor | null, old: null as Tensor | null,
      }
      be.write(x.tokens, mb.inputs); be.write(x.targets, mb.targets); be.write(x.mask, mb.mask)
      const s = Math.floor(m / c.gradient_accumulation_steps)
      const minibatch = micro.slice(s * c.gradient_accumulation_steps, (s + 1) * c.gradient_accumulation_steps)
      const numItems = minibatch.reduce((a, b) => a + b.counts.reduce((x2, y) => x2 + y, 0), 0)
      be.write(x.weights, sequenceWeights(c.loss_type, mb.counts, {
        maxCompletionLength: c.max_completion_length, gradientAccumulationSteps: c.gradient_accumulation_steps, numItemsInBatch: numItems,
      }))
      return x
    })
    for (let m = 0; m < parts; m++) {
      const x = io[m]
      if (this.ref) {
        const a = this.ref.forward(Bm, T, x)
        x.ref = t(Bm * T, `grpo.ref.${m}`); be.copy(x.ref, a.logp)
      }
      if (c.num_iterations > 1) {
        const a = this.model.forward(Bm, T, x)
        x.old = t(Bm * T, `grpo.old.${m}`); be.copy(x.old, a.logp)
      }
    }

    // ---- μ passes of minibatch optimizer steps ----
    const tokenTerms = t(3 * Bm * T, 'grpo.token_terms')
    // the schedule counts optimizer updates over the whole run, so a resumed run continues it
    const lrAt = (o: number) => scheduledLearningRate(c.lr_scheduler_type, c.learning_rate, this.step * optSteps + o, c.max_steps * optSteps)
    const stepLearningRate = lrAt(0)
    let pass = 0; let opt = 0
    for (let it = 0; it < c.num_iterations; it++) {
      for (let s = 0; s < c.steps_per_generation; s++) {
        for (let g = 0; g < c.gradient_accumulation_steps; g++) {
          const m = s * c.gradient_accumulation_steps + g
          const x = io[m]
          const a = this.model.forward(Bm, T, x)
          be.grpoLoss({
            logp: a.logp, oldLogp: x.old ?? a.logp, refLogp: x.ref ?? a.logp, entropy: a.entropy, mask: x.mask,
            advantages, seqOffset: m * Bm, weights: x.weights, dlogp: a.dlogp, tokenTerms,
            stats: view(report.buffer, offStats + pass * SLOT, GRPO_STATS), N: Bm, T,
            epsilonLow: c.epsilon, epsilonHigh: c.epsilon_high, beta: c.beta,
          })
          this.model.backward(g > 0)
          pass++
        }
        this.opt.update(lrAt(opt))
        be.copy(view(report.buffer, offNorm + opt * SLOT, 1), this.opt.gradNorm)
        opt++
      }
    }
    const rep = await be.read(report)
    made.forEach((x) => be.destroyBuffer(x.buffer))
    this.step++

    // ---- metrics (TRL's names where TRL has one) and the trace ----
    const adv = Array.from(rep.slice(offAdv, offAdv + N))
    const std = Array.from(rep.slice(offStd, offStd + N))
    const sum = (k: number) => { let v = 0; for (let p = 0; p < passes; p++) v += rep[offStats + p * SLOT + k]; return v }
    const count = Math.max(1, sum(GrpoStat.count))
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0)
    const lengths = ro.completionIds.map((x) => x.length)
    const correct = ro.scores.map((s) => s.correct)
    const metrics: Metrics = {
      step: this.step,
      reward: mean(ro.scores.map((s) => s.total)),
      reward_std: mean(std),
    }
    for (const f of this.task.rewardFunctions) {
      const v = ro.scores.map((s) => s.byFunction[f.name])
      metrics[`rewards/${f.name}/mean`] = mean(v)
      metrics[`rewards/${f.name}/std`] = Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)))
    }
    if (c.overlong_buffer_length > 0) metrics['rewards/overlong/mean'] = mean(ro.scores.map((s) => s.overlong))
    if (this.step === 1 && this.coldStartLoss !== null) metrics['cold_start/loss'] = this.coldStartLoss
    const lossSum = Array.from({ length: optSteps }, (_, o) => {
      let v = 0
      for (let k = 0; k < c.gradient_accumulation_steps; k++) v += rep[offStats + (o * c.gradient_accumulation_steps + k) * SLOT + GrpoStat.loss]
      return v
    })
    Object.assign(metrics, {
      'completions/mean_length': mean(lengths),
      'completions/min_length': Math.min(...lengths),
      'completions/max_length': Math.max(...lengths),
      'completions/clipped_ratio': mean(ro.truncated.map(Number)),
      kl: sum(GrpoStat.kl) / count,
      entropy: sum(GrpoStat.entropy) / count,
      'clip_ratio/low_mean': sum(GrpoStat.clipLow) / count,
      'clip_ratio/high_mean': sum(GrpoStat.clipHigh) / count,
      'clip_ratio/region_mean': sum(GrpoStat.clipRegion) / count,
      frac_reward_zero_std: std.filter((x) => x <= 1e-8).length / N,
      grad_norm: mean(Array.from({ length: optSteps }, (_, o) => rep[offNorm + o * SLOT])),
      loss: mean(lossSum),
      learning_rate: stepLearningRate,
      accuracy: mean(correct.map(Number)),
      length_correct: mean(lengths.filter((_, i) => correct[i])),
      length_incorrect: mean(lengths.filter((_, i) => !correct[i])),
      reflection_rate: mean(ro.texts.map((x) => Number(hasReflection(x)))),
      'ratio/min': minOverPasses(rep, offStats, passes, GrpoStat.ratioMin, Math.min),
      'ratio/max': minOverPasses(rep, offStats, passes, GrpoStat.ratioMax, Math.max),
      'dynamic_sampling/rounds': ro.rounds,
    })
    if (this.task.rewardFunctions.some((f) => f.name === 'format')) {
      metrics.format_rate = mean(ro.scores.map((s) => Number(s.byFunction.format === 1)))
    }
    const used = countersSince(be.counters, before)
    Object.assign(metrics, {
      dispatches: used.dispatches, readbacks: used.readbacks, submits: used.submits,
      bytes_up: used.bytesUp, bytes_down: used.bytesDown, step_time: (performance.now() - t0) / 1000,
    })
    const trace: TraceRecord = {
      step: this.step,
      groups: ro.problems.map((p, gi) => ({
        prompt: p.prompt,
        answer: p.answer,
        completions: Array.from({ length: G }, (_, j) => {
          const i = gi * G + j
          return {
            text: ro.texts[i], rewards: ro.scores[i].byFunction, reward: ro.scores[i].total, advantage: adv[i],
            length: lengths[i], truncated: ro.truncated[i], correct: correct[i],
          }
        }),
      })),
    }
    return { metrics, trace }
  }

  /** Held-out pass@1 (greedy) and, when k > 1, cons@k. 'eval/accuracy' is pass@1. */
  async evaluate(n = this.config.eval_problems, k = 0): Promise<Metrics> {
    const m = await evaluateModel(this.model, this.tokenizer, this.task, {
      n, k, temperature: this.config.temperature, maxNewTokens: this.config.max_completion_length, seed: this.config.seed,
    })
    return { 'eval/accuracy': m['eval/pass@1'], ...m }
  }

  destroy(): void {
    this.opt.destroy()
    this.ref?.destroy()
    this.model.destroy()
  }

  // ---- snapshot / restore: everything a resumed run needs to continue as if never stopped ----
  // (the lab saves one every few steps to IndexedDB; weights, AdamW moments and the cursors)

  /** The trainer's whole state as plain arrays (four readbacks). */
  async snapshot(): Promise<TrainerSnapshot> {
    const be = this.backend
    return {
      step: this.step,
      problemCursor: this.problemCursor,
      optStep: this.opt.step,
      params: Float32Array.from(await be.read(this.model.params)),
      adamM: Float32Array.from(await be.read(this.opt.m)),
      adamV: Float32Array.from(await be.read(this.opt.v)),
      refParams: this.ref ? Float32Array.from(await be.read(this.ref.params)) : null,
    }
  }

  /** Continue from a snapshot of a trainer with the same config and model shape. */
  restore(s: TrainerSnapshot): void {
    const n = this.model.layout.total
    for (const [name, a] of [['params', s.params], ['adamM', s.adamM], ['adamV', s.adamV]] as const) {
      if (a.length !== n) throw new Error(`snapshot: ${name} has ${a.length} values, this model needs ${n}`)
    }
    if ((s.refParams !== null) !== (this.ref !== null)) throw new Error('snapshot: taken with a different beta (reference model present or not)')
    this.model.loadFlat(s.params)
    this.backend.write(this.opt.m, s.adamM)
    this.backend.write(this.opt.v, s.adamV)
    if (this.ref && s.refParams) this.ref.loadFlat(s.refParams)
    this.opt.step = s.optStep
    this.step = s.step
    this.problemCursor = s.problemCursor
  }
}

export interface TrainerSnapshot {
  step: number
  problemCursor: number
  optStep: number
  params: Float32Array
  adamM: Float32Array
  adamV: Float32Array
  /** the frozen reference model (β > 0 only) */
  refParams: Float32Array | null
}

function minOverPasses(rep: ArrayLike<number>, off: number, passes: number, k: number, pick: (a: number, b: number) => number): number {
  let v = rep[off + k]
  for (let p = 1; p < passes; p++) v = pick(v, rep[off + p * SLOT + k])
  return v
}
