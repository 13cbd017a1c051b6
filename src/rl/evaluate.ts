// Evaluation on the held-out split: pass@1 (greedy) and cons@k (majority vote over k sampled
// completions, by their final answer), with mean length, format and reflection rates, and the
// reasoning metrics of the greedy completions (tries, checks, waits; accuracy checked vs unchecked).
// Each is one batch of generation: one readback.

import { Stream } from '../engine/rng'
import { generate } from '../model/decode'
import type { GPT } from '../model/gpt'
import type { CharTokenizer } from '../model/tokenizer'
import { lastAnswer } from '../tasks/answer'
import type { Problem, Task } from '../tasks/types'
import { reasoningMetrics } from './reasoning'
import { hasReflection } from './rewards'

export interface EvalOptions {
  /** held-out problems */
  n: number
  /** samples per problem for cons@k; 0 or 1 = no majority vote */
  k: number
  temperature: number
  maxNewTokens: number
  seed: number
  /** receives each problem's greedy completion (text, and tokens with the end token if produced) */
  onGreedy?: (rows: { problem: Problem; text: string; tokens: number[] }[]) => void
}

export type EvalMetrics = Record<string, number>

/** The random stream of cons@k's samples, apart from training's rollouts with the same seed. */
export const CONS_STREAM = Stream.sample ^ 0x5eed

/** The answer a completion commits to: the last <answer>, or the whole text for tag-less tasks. */
function finalAnswer(text: string): string {
  return (lastAnswer(text) ?? text).trim()
}

export async function evaluateModel(model: GPT, tokenizer: CharTokenizer, task: Task, o: EvalOptions): Promise<EvalMetrics> {
  const problems: Problem[] = Array.from({ length: o.n }, (_, i) => task.problem('test', o.seed, i))
  const prompts = problems.map((p) => tokenizer.encode(p.prompt))
  // never ask for more than the context leaves after the longest prompt
  const maxNewTokens = Math.max(1, Math.min(o.maxNewTokens, model.config.blockSize - Math.max(...prompts.map((p) => p.length))))
  const greedy = await generate(model, { prompts, maxNewTokens, temperature: 0, seed: o.seed })
  const texts = greedy.completions.map((c) => tokenizer.decode(c))
  o.onGreedy?.(problems.map((problem, i) => ({ problem, text: texts[i], tokens: greedy.completions[i] })))
  const format = task.rewardFunctions.find((f) => f.name === 'format')
  const right = texts.map((t, i) => task.isCorrect(t, problems[i]))
  const out: EvalMetrics = {
    'eval/pass@1': right.filter(Boolean).length / o.n,
    'eval/mean_length': greedy.completions.reduce((a, c) => a + c.length, 0) / o.n,
    'eval/reflection_rate': texts.filter(hasReflection).length / o.n,
    ...reasoningMetrics(task, texts, right, 'eval/'),
  }
  if (format) out['eval/format_rate'] = texts.filter((t, i) => format.score(t, problems[i]) === 1).length / o.n
  if (o.k > 1) {
    const sampled = await generate(model, {
      prompts: prompts.flatMap((p) => Array.from({ length: o.k }, () => p)), maxNewTokens,
      temperature: o.temperature, seed: o.seed, stream: CONS_STREAM,
    })
    let votedRight = 0
    problems.forEach((p, i) => {
      const candidates = sampled.completions.slice(i * o.k, (i + 1) * o.k).map((c) => tokenizer.decode(c))
      const votes = new Map<string, { count: number; text: string }>()
      for (const c of candidates) {
        const a = finalAnswer(c)
        const v = votes.get(a)
        if (v) v.count++
        else votes.set(a, { count: 1, text: c })
      }
      // the most votes; ties go to the answer seen first
      let best: { count: number; text: string } | null = null
      for (const v of votes.values()) if (!best || v.count > best.count) best = v
      if (best && task.isCorrect(best.text, p)) votedRight++
    })
    out[`eval/cons@${o.k}`] = votedRight / o.n
  }
  return out
}
