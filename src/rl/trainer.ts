// The GRPO trainer. One step (trainStep) is a rollout and an update on it (update, which also
// trains on a rollout given from outside, as `grpo-lab update` does):
//   rollout: P prompts × G completions, sampled on the device (one readback of the tokens)
//   → decode, rule rewards (each function logged), DAPO dynamic sampling / overlong punishment
//   update: the batch → advantages (kernel) → reference log-probs (β > 0) and old-policy log-probs
//     (when an optimizer step can come between sampling and a minibatch), all at the sampling
//     temperature, as TRL computes them → μ passes × steps_per_generation minibatches ×
//     gradient_accumulation_steps microbatches of forward, GRPO loss (kernel), backward, and
//     AdamW per minibatch → one readback of the step's report (advantages, loss statistics,
//     gradient norms) → metrics.
// It imports nothing from the UI and runs unchanged in Node and in a Web Worker.

import type { AdvantageArgs, Backend, GrpoObjective, Tensor } from '../engine/backend'
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
import { grpoObjective as objectiveOf, sequenceWeights } from './loss'
import { meanOrNaN, reasoningMetrics } from './reasoning'
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
  /** prompt and completion tokens of every rollout trained on (TRL's state.num_input_tokens_seen) */
  numInputTokensSeen = 0
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

  /** The reward functions the update sees, in order: the task's, then DAPO's soft overlong
   *  punishment as one more function of weight 1 when it is on (TRL implements it as one). */
  rewardFunctionNames(): string[] {
    return this.task.rewardFunctions.map((f) => f.name).concat(this.config.overlong_buffer_length > 0 ? ['overlong'] : [])
  }

  private rewardFunctionWeights(): number[] {
    return this.weights.concat(this.config.overlong_buffer_length > 0 ? [1] : [])
  }

  /** One GRPO step: a rollout (sampled and scored) and the update on it. Resolves with
   *  DESIGN.md's metrics and the step's trace record. */
  async trainStep(): Promise<StepResult> {
    const be = this.backend
    const c = this.config
    const t0 = performance.now()
    // a resumed run (step > 0) carries the cold start in its weights already
    if (this.step === 0 && c.cold_start_steps > 0 && this.coldStartLoss === null) await this.coldStart()
    const before: Counters = { ...be.counters }
    const G = c.num_generations
    const ro = await this.rollout()
    const names = this.rewardFunctionNames()
    const up = await this.update({
      promptIds: ro.promptIds, completionIds: ro.completionIds, truncated: ro.truncated,
      rewards: ro.scores.map((s) => s.total),
      rewardsPerFunc: ro.scores.map((s) => names.map((n) => (n === 'overlong' ? s.overlong : s.byFunction[n]))),
    })
    const metrics: Metrics = { step: this.step, ...up.metrics }
    if (this.step === 1 && this.coldStartLoss !== null) metrics['cold_start/loss'] = this.coldStartLoss

    // ---- the lab's own metrics ----
    const lengths = ro.completionIds.map((x) => x.length)
    const correct = ro.scores.map((s) => s.correct)
    Object.assign(metrics, {
      accuracy: mean(correct.map(Number)),
      // NaN when the batch has none of that kind (JSON's null): a gap in the curve, not a length of 0
      length_correct: meanOrNaN(lengths.filter((_, i) => correct[i])),
      length_incorrect: meanOrNaN(lengths.filter((_, i) => !correct[i])),
      reflection_rate: mean(ro.texts.map((x) => Number(hasReflection(x)))),
      ...reasoningMetrics(this.task, ro.texts, correct),
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
            text: ro.texts[i], rewards: ro.scores[i].byFunction, reward: ro.scores[i].total, advantage: up.advantages[i],
            length: lengths[i], truncated: ro.truncated[i], correct: correct[i],
          }
        }),
      })),
    }
    return { metrics, trace }
  }

  /**
   * The update phase of one GRPO step on a given rollout, as TRL's trainer runs it after
   * generation: the batch → advantages → reference and old-policy log-probs (with the policy as
   * it was when the rollout was sampled, before any optimizer step) → μ passes of minibatch
   * optimizer steps → metrics. One readback. Counts as one step of the run (the schedule moves on).
   */
  async update(rb: UpdateRollout): Promise<UpdateResult> {
    const be = this.backend
    const c = this.config
    const N = rb.completionIds.length
    const parts = c.steps_per_generation * c.gradient_accumulation_steps
    if (N === 0 || N % c.num_generations !== 0 || N % parts !== 0 || [rb.promptIds, rb.truncated, rb.rewards].some((x) => x.length !== N)) {
      throw new Error(`update: a rollout of ${N} completions (with ${rb.promptIds.length} prompts, ${rb.truncated.length} truncated flags, ` +
        `${rb.rewards.length} rewards); allowed: as many of each, whole groups of num_generations = ${c.num_generations}, ` +
        `split into ${parts} equal microbatches`)
    }
    if (c.multi_objective_aggregation === 'normalize_then_sum' && !rb.rewardsPerFunc) {
      throw new Error('update: multi_objective_aggregation normalize_then_sum needs each reward function\'s scores (rewardsPerFunc)')
    }
    const batch = this.batchOf(rb)
    const made: Tensor[] = []
    const t = (n: number, label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor => {
      const x = whole(be.createBuffer(n, dtype, label)); made.push(x); return x
    }
    const L = reportLayout(batch.N, batch.N / c.num_generations, c)
    const report = t(L.total, 'grpo.report')
    be.fill(report, 0)
    this.advantagesOf(rb, report, L, t)
    const io = this.uploadBatch(batch, t)
    this.referenceAndOldLogprobs(batch, io, t)
    const lrs = this.passes(batch, io, report, L, t)
    const rep = await be.read(report)
    made.forEach((x) => be.destroyBuffer(x.buffer))
    this.step++
    // TRL's state.num_input_tokens_seen: prompt and completion tokens of every rollout so far
    this.numInputTokensSeen += rb.promptIds.reduce((s, p) => s + p.length, 0) + rb.completionIds.reduce((s, x) => s + x.length, 0)
    return this.updateMetrics(rb, batch, rep, L, lrs)
  }

  // ---- the phases of update(), in order ----

  /** The batch: prompt + completion, inputs/targets shifted by one, the completion mask, cut into
   *  steps_per_generation × gradient_accumulation_steps microbatches (in order, group-major). */
  private batchOf(rb: UpdateRollout): Batch {
    const c = this.config
    const N = rb.completionIds.length
    const seqs = rb.promptIds.map((p, i) => p.concat(rb.completionIds[i]))
    const T = Math.max(...seqs.map((s) => s.length)) - 1
    const masked = (i: number) => c.mask_truncated_completions && rb.truncated[i]
    const counts = rb.completionIds.map((ids, i) => (masked(i) ? 0 : ids.length))
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
          const p = rb.promptIds[i].length
          for (let t = p - 1; t < p - 1 + rb.completionIds[i].length; t++) mask[b * T + t] = 1
        }
      }
      return { inputs, targets, mask, counts: counts.slice(m * Bm, (m + 1) * Bm) }
    })
    // TRL's num_items_in_batch: the masked tokens of the whole rollout
    return { N, T, Bm, parts, micro, maskedTokens: counts.reduce((a, b) => a + b, 0) }
  }

  /** Advantages, their std and the zero-std groups on the device, into the report. */
  private advantagesOf(rb: UpdateRollout, report: Tensor, L: ReportLayout, t: TensorMaker): void {
    const c = this.config
    const N = rb.rewards.length
    const G = c.num_generations
    const rewards = t(N, 'grpo.rewards')
    this.backend.write(rewards, rb.rewards)
    const args: AdvantageArgs = {
      rewards, advantages: view(report.buffer, L.adv, N), std: view(report.buffer, L.std, N),
      zeroStdGroups: view(report.buffer, L.zero, N / G), numGroups: N / G, G, scale: c.scale_rewards,
      aggregation: c.multi_objective_aggregation,
    }
    if (c.multi_objective_aggregation === 'normalize_then_sum') {
      const weights = this.rewardFunctionWeights()
      const K = weights.length
      args.rewardsPerFunc = t(N * K, 'grpo.rewards_per_func')
      this.backend.write(args.rewardsPerFunc, rb.rewardsPerFunc!.flat())
      args.rewardWeights = t(K, 'grpo.reward_weights')
      this.backend.write(args.rewardWeights, weights)
      args.K = K
    }
    this.backend.advantages(args)
  }

  /** Each microbatch's inputs, mask and aggregation weights, uploaded once. */
  private uploadBatch(batch: Batch, t: TensorMaker): MicrobatchTensors[] {
    const be = this.backend
    const c = this.config
    const { Bm, T } = batch
    // dapo, cispo, vespo: TRL divides by num_items_in_batch × gradient_accumulation_steps /
    // its steps_per_generation (which counts microbatches: ours × gradient_accumulation_steps),
    // i.e. by the rollout's masked tokens / our steps_per_generation, the same for every minibatch
    const numItemsInBatch = Math.max(1, batch.maskedTokens) / c.steps_per_generation
    return batch.micro.map((mb, m) => {
      const x: MicrobatchTensors = {
        tokens: t(Bm * T, `grpo.tokens.${m}`, 'u32'), targets: t(Bm * T, `grpo.targets.${m}`, 'u32'),
        mask: t(Bm * T, `grpo.mask.${m}`), weights: t(Bm, `grpo.weights.${m}`), ref: null, old: null,
      }
      be.write(x.tokens, mb.inputs); be.write(x.targets, mb.targets); be.write(x.mask, mb.mask)
      be.write(x.weights, sequenceWeights(c.loss_type, mb.counts, {
        maxCompletionLength: c.max_completion_length, gradientAccumulationSteps: c.gradient_accumulation_steps, numItemsInBatch,
      }))
      return x
    })
  }

  /** The policy's old log-probs are needed whenever an optimizer step can come between sampling and a
   *  minibatch: TRL computes them when gradient_accumulation_steps % (its steps_per_generation × μ) ≠ 0,
   *  its steps_per_generation being ours × gradient_accumulation_steps, i.e. when ours × μ > 1. */
  needsOldLogprobs(): boolean {
    return this.config.steps_per_generation * this.config.num_iterations > 1
  }

  /** Reference (β > 0) and old-policy log-probs of every microbatch, at the sampling temperature
   *  (TRL uses it for all three), before any optimizer step of this rollout. */
  private referenceAndOldLogprobs(batch: Batch, io: MicrobatchTensors[], t: TensorMaker): void {
    const be = this.backend
    const { Bm, T } = batch
    const temperature = this.config.temperature
    io.forEach((x, m) => {
      if (this.ref) {
        const a = this.ref.forward(Bm, T, x, { temperature })
        x.ref = t(Bm * T, `grpo.ref.${m}`); be.copy(x.ref, a.logp)
      }
      if (this.needsOldLogprobs()) {
        const a = this.model.forward(Bm, T, x, { temperature })
        x.old = t(Bm * T, `grpo.old.${m}`); be.copy(x.old, a.logp)
      }
    })
  }

  /** μ passes over the minibatches: forward, GRPO loss (kernel), backward per microbatch, AdamW per
   *  minibatch. Each call's loss statistics and each step's gradient norm go into the report.
   *  Returns the learning rate of each optimizer step. */
  private passes(batch: Batch, io: MicrobatchTensors[], report: Tensor, L: ReportLayout, t: TensorMaker): number[] {
    const be = this.backend
    const c = this.config
    const { Bm, T } = batch
    const ga = c.gradient_accumulation_steps
    const objective = grpoObjective(c)
    const entropyGrad = c.entropy_coef !== 0
    const tokenTerms = t(3 * Bm * T, 'grpo.token_terms')
    const advantages = view(report.buffer, L.adv, batch.N)
    // the schedule counts optimizer updates over the whole run, so a resumed run continues it
    const optSteps = c.num_iterations * c.steps_per_generation
    const lrAt = (o: number) => scheduledLearningRate(c.lr_scheduler_type, c.learning_rate, this.step * optSteps + o, c.max_steps * optSteps)
    const lrs: number[] = []
    let pass = 0
    for (let it = 0; it < c.num_iterations; it++) {
      for (let s = 0; s < c.steps_per_generation; s++) {
        for (let g = 0; g < ga; g++) {
          const m = s * ga + g
          const x = io[m]
          const a = this.model.forward(Bm, T, x, { temperature: c.temperature })
          be.grpoLoss({
            logp: a.logp, oldLogp: x.old ?? a.logp, refLogp: x.ref ?? a.logp, entropy: a.entropy, mask: x.mask,
            advantages, seqOffset: m * Bm, weights: x.weights, dlogp: a.dlogp, dentropy: a.dentropy, tokenTerms,
            stats: view(report.buffer, L.stats + pass * SLOT, GRPO_STATS), N: Bm, T,
            epsilonLow: c.epsilon, epsilonHigh: c.epsilon_high, beta: c.beta, objective,
          })
          this.model.backward(g > 0, entropyGrad)
          pass++
        }
        const o = lrs.length
        lrs.push(lrAt(o))
        this.opt.update(lrs[o])
        be.copy(view(report.buffer, L.norms + o * SLOT, 1), this.opt.gradNorm)
      }
    }
    return lrs
  }

  /** TRL's metrics of the rollout and of the update (its names), plus the lab's ratio range. Values
   *  TRL appends once per _compute_loss call are averaged over the calls, as its log() does. */
  private updateMetrics(rb: UpdateRollout, batch: Batch, rep: ArrayLike<number>, L: ReportLayout, lrs: number[]): UpdateResult {
    const c = this.config
    const N = batch.N
    const ga = c.gradient_accumulation_steps
    const advantages = Array.from({ length: N }, (_, i) => rep[L.adv + i])
    const std = Array.from({ length: N }, (_, i) => rep[L.std + i])
    const calls = Array.from({ length: L.passes }, (_, p) => Array.from({ length: GRPO_STATS }, (_, k) => rep[L.stats + p * SLOT + k]))
    const optimizerSteps = lrs.map((learningRate, o) => ({
      // the optimizer step's microbatch losses, summed (what Trainer adds up into its logged loss)
      loss: calls.slice(o * ga, (o + 1) * ga).reduce((s, st) => s + st[GrpoStat.loss], 0),
      gradNorm: rep[L.norms + o * SLOT],
      learningRate,
    }))
    const perCall = (f: (st: number[]) => number) => nanMean(calls.map(f))
    const ratio = (num: number, den: number) => (st: number[]) => st[num] / Math.max(1, st[den])
    const lengths = rb.completionIds.map((x) => x.length)
    const terminated = lengths.filter((_, i) => !rb.truncated[i])
    const term = terminated.length ? terminated : [0] // TRL: 0 when no completion terminated
    const metrics: Metrics = {
      num_tokens: this.numInputTokensSeen,
      'completions/mean_length': mean(lengths),
      'completions/min_length': Math.min(...lengths),
      'completions/max_length': Math.max(...lengths),
      'completions/clipped_ratio': mean(rb.truncated.map(Number)),
      'completions/mean_terminated_length': mean(term),
      'completions/min_terminated_length': Math.min(...term),
      'completions/max_terminated_length': Math.max(...term),
    }
    if (rb.rewardsPerFunc) {
      this.rewardFunctionNames().forEach((name, k) => {
        const v = rb.rewardsPerFunc!.map((r) => r[k])
        metrics[`rewards/${name}/mean`] = mean(v)
        metrics[`rewards/${name}/std`] = sampleStd(v)
      })
    }
    Object.assign(metrics, {
      reward: mean(rb.rewards),
      reward_std: sampleStd(rb.rewards),
      frac_reward_zero_std: std.filter((x) => Math.abs(x) <= 1e-8).length / N, // torch.isclose(std, 0)
    })
    if (c.beta > 0) metrics.kl = perCall(ratio(GrpoStat.kl, GrpoStat.count))
    metrics.entropy = perCall(ratio(GrpoStat.entropy, GrpoStat.count))
    if (grpoObjective(c).kind === 'clip') {
      Object.assign(metrics, {
        'clip_ratio/low_mean': perCall(ratio(GrpoStat.clipLow, GrpoStat.clipCount)),
        'clip_ratio/high_mean': perCall(ratio(GrpoStat.clipHigh, GrpoStat.clipCount)),
        'clip_ratio/region_mean': perCall(ratio(GrpoStat.clipRegion, GrpoStat.clipCount)),
      })
      // NaN when no sequence of a call had tokens; TRL's log() leaves NaN out, and the metric when all are
      const lowMin = perCall((st) => st[GrpoStat.clipLowMin]); const highMax = perCall((st) => st[GrpoStat.clipHighMax])
      if (!Number.isNaN(lowMin)) metrics['clip_ratio/low_min'] = lowMin
      if (!Number.isNaN(highMax)) metrics['clip_ratio/high_max'] = highMax
    } else if (c.loss_type === 'cispo') {
      metrics.cispo_clip_ratio = perCall(ratio(GrpoStat.cispoClip, GrpoStat.count))
    } else if (c.loss_type === 'vespo') {
      metrics['vespo/phi_seq_mean'] = perCall(ratio(GrpoStat.phiSum, GrpoStat.sequences))
    }
    if (c.entropy_coef > 0) {
      // TRL's policy_loss is taken before its division by gradient_accumulation_steps, except for
      // the types normalised by num_items_in_batch (dapo, cispo, vespo), whose weights carry it
      const undivide = ['dapo', 'cispo', 'vespo'].includes(c.loss_type) ? 1 : ga
      metrics.policy_loss = perCall((st) => st[GrpoStat.policyLoss] * undivide)
      metrics.entropy_coef = c.entropy_coef
    }
    Object.assign(metrics, {
      grad_norm: mean(optimizerSteps.map((o) => o.gradNorm)),
      loss: mean(optimizerSteps.map((o) => o.loss)),
      learning_rate: lrs[0],
      'ratio/min': Math.min(...calls.map((st) => st[GrpoStat.ratioMin])),
      'ratio/max': Math.max(...calls.map((st) => st[GrpoStat.ratioMax])),
    })
    return { advantages, std, optimizerSteps, calls, metrics }
  }

  /** Held-out pass@1 (greedy) and, when k > 1, cons@k. 'eval/accuracy' is pass@1. */
  async evaluate(n = this.config.eval_problems, k = 0): Promise<Metrics> {
    const m = await evaluateModel(this.model, this.tokenizer, this.task, {
      n, k, temperature: this.config.temperature, maxNewTokens: this.config.max_completion_length, seed: this.config.seed,
    })
    return { 'eval/accuracy': m['eval/pass@1'], ...m }
  }

  /** Free what is kept only for speed and remade on demand: the models' activations of the last
   *  batch shape and the backend's caches. What is left is the run's state (a leak shows there). */
  releaseCaches(): void {
    this.model.releaseActivations()
    this.ref?.releaseActivations()
    this.backend.releaseCaches()
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
      numInputTokensSeen: this.numInputTokensSeen,
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
    this.numInputTokensSeen = s.numInputTokensSeen ?? 0
  }
}

export interface TrainerSnapshot {
  step: number
  problemCursor: number
  optStep: number
  /** num_tokens so far (absent in snapshots saved before it was logged: counted from 0) */
  numInputTokensSeen?: number
  params: Float32Array
  adamM: Float32Array
  adamV: Float32Array
  /** the frozen reference model (β > 0 only) */
  refParams: Float32Array | null
}

/** The rollout the update phase trains on: N = prompts_per_step × num_generations completions,
 *  group-major, token ids in the model's tokenizer. */
export interface UpdateRollout {
  promptIds: number[][]
  /** each completion's tokens, the end token included when it terminated */
  completionIds: number[][]
  truncated: boolean[]
  /** each completion's reward, Σ_f w_f · R_f */
  rewards: number[]
  /** [N][K] each reward function's raw score (GRPOTrainer.rewardFunctionNames() order); needed by
   *  normalize_then_sum, and for the per-function metrics */
  rewardsPerFunc?: number[][]
}

export interface OptimizerStepReport {
  /** the sum of the optimizer step's microbatch losses */
  loss: number
  /** the global gradient norm before clipping */
  gradNorm: number
  learningRate: number
}

export interface UpdateResult {
  advantages: number[]
  /** the std each advantage was scaled by (TRL's std_rewards) */
  std: number[]
  optimizerSteps: OptimizerStepReport[]
  /** each GRPO loss call's statistics (GrpoStat slots), in the order they ran */
  calls: number[][]
  metrics: Metrics
}

interface Batch {
  N: number; T: number
  /** sequences per microbatch, and microbatches */
  Bm: number; parts: number
  micro: { inputs: Uint32Array; targets: Uint32Array; mask: Float32Array; counts: number[] }[]
  /** counted completion tokens of the whole rollout (TRL's num_items_in_batch) */
  maskedTokens: number
}

interface MicrobatchTensors {
  tokens: Tensor; targets: Tensor; mask: Tensor; weights: Tensor
  ref: Tensor | null; old: Tensor | null
}

type TensorMaker = (n: number, label: string, dtype?: 'f32' | 'u32') => Tensor

/** The per-step report buffer: advantages | std | zero-std flags | loss stats per call | grad norms. */
interface ReportLayout { adv: number; std: number; zero: number; stats: number; norms: number; passes: number; total: number }

function reportLayout(N: number, numGroups: number, c: RunConfig): ReportLayout {
  const aligned = (n: number) => Math.ceil(n / SLOT) * SLOT
  const passes = c.num_iterations * c.steps_per_generation * c.gradient_accumulation_steps
  const optSteps = c.num_iterations * c.steps_per_generation
  const adv = 0; const std = aligned(N); const zero = std + aligned(N)
  const stats = zero + aligned(numGroups); const norms = stats + passes * SLOT
  return { adv, std, zero, stats, norms, passes, total: norms + optSteps * SLOT }
}

/** The loss kernel's objective for a config: TRL's loss_type families and their knobs. */
export function grpoObjective(c: RunConfig): GrpoObjective {
  return objectiveOf(c, c.gradient_accumulation_steps)
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0
}

/** The sample (n − 1) standard deviation, as TRL's nanstd (NaN for fewer than two values). */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN
  const m = mean(xs)
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1))
}

/** The mean of the values that are not NaN; NaN when none is (TRL's log()). */
function nanMean(xs: readonly number[]): number {
  const valid = xs.filter((x) => !Number.isNaN(x))
  return valid.length ? mean(valid) : NaN
}
