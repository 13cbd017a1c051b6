// Pieces the tasks share: finding the answer, the format reward, the train/test split rule and
// seeded draws. Nothing here depends on a particular task.
import { hash32, randomBits, Stream } from '../engine/rng'
import { TaskInputError } from './types'
import type { RewardFunction } from './types'

/**
 * Contents of the `<answer>…</answer>` pairs, as Python's `re.finditer(r'<answer>(.*?)</answer>')`
 * finds them (TinyZero's extraction): lazy, non-overlapping, and `.` stops at a newline only.
 */
export function answerContents(text: string): string[] {
  return Array.from(text.matchAll(/<answer>([^\n]*?)<\/answer>/g), (m) => m[1])
}

/** The content of the last `<answer>…</answer>`, untrimmed; null when there is none. */
export function lastAnswer(text: string): string | null {
  const all = answerContents(text)
  return all.length > 0 ? all[all.length - 1] : null
}

function count(text: string, tag: string): number {
  return text.split(tag).length - 1
}

/**
 * The template's shape: "…reasoning…</think><answer>…</answer>", optionally with whitespace around
 * the answer block. Exactly one of each closing/answer tag and no "<think>" (the prompt opened it),
 * so there is never a question of which answer counts. An empty answer is not well formed: the tags
 * alone should not earn the format reward.
 */
export function isWellFormed(completion: string): boolean {
  if (completion.includes('<think>')) return false
  if (count(completion, '</think>') !== 1) return false
  if (count(completion, '<answer>') !== 1 || count(completion, '</answer>') !== 1) return false
  const after = completion.slice(completion.indexOf('</think>') + '</think>'.length)
  const m = /^\s*<answer>([\s\S]*)<\/answer>\s*$/.exec(after)
  return m !== null && m[1].trim() !== ''
}

/** The ways a format-noise document breaks the format (issue 15 point 4: a base whose format is
 *  unreliable, so that GRPO has to learn the format before accuracy). Each is what a careless
 *  writer does: a tag left out, or the answer put inside the thinking. */
export const FORMAT_BREAKS = ['no </think>', 'no answer tags', 'answer inside think', 'no <answer>', 'no tags at all'] as const

/** A completion "…</think><answer>A</answer>" with its format broken the `which`-th way of FORMAT_BREAKS. */
export function breakFormat(completion: string, which: number): string {
  const m = /^([\s\S]*)<\/think><answer>([\s\S]*)<\/answer>$/.exec(completion)
  if (!m) return completion // not in the format: nothing to break
  const [, think, answer] = m
  switch (FORMAT_BREAKS[which]) {
    case 'no </think>': return `${think}<answer>${answer}</answer>`
    case 'no answer tags': return `${think}</think>${answer}`
    case 'answer inside think': return `${think}<answer>${answer}</answer></think>`
    case 'no <answer>': return `${think}</think>${answer}</answer>`
    default: return `${think} ${answer}`
  }
}

/** Pretraining document `index` with its format broken with probability `share` (deterministic). */
export function withFormatNoise(doc: { prompt: string; completion: string }, seed: number, index: number, share: number): { prompt: string; completion: string } {
  if (share <= 0) return doc
  const d = new Draws(seed, Purpose.pretrainFormat, index, 0)
  if (d.bits() / 2 ** 32 >= share) return doc
  return { prompt: doc.prompt, completion: breakFormat(doc.completion, d.bits() % FORMAT_BREAKS.length) }
}

export function formatReward(weight: number): RewardFunction {
  return {
    name: 'format',
    weight,
    description: 'Format: 1 when the completion is "…</think><answer>…</answer>" and ends there, else 0.',
    score: (completion) => (isWellFormed(completion) ? 1 : 0),
  }
}

/** FNV-1a over UTF-16 code units, then mixed: a stable 32-bit hash of a text key. */
export function stringHash(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return hash32(h)
}

/**
 * The split of a problem, from its canonical key alone: never from the seed, so a problem is held
 * out in every run and held-out accuracy measures generalisation. One problem in ten is held out.
 */
export function splitOf(key: string): 'train' | 'test' {
  return stringHash(key) % 10 === 0 ? 'test' : 'train'
}

/** What a run of draws is for: separate counters, so one purpose never shifts another's numbers. */
export const Purpose = { train: 0, test: 1, pretrainProblem: 2, pretrainStyle: 3, coldStartProblem: 4, coldStartStyle: 5, pretrainFormat: 6 } as const

const DRAWS_PER_ATTEMPT = 64
const MAX_ATTEMPTS = 100_000

/** Successive random draws for one (seed, purpose, index, attempt), each from its own counter. */
export class Draws {
  private j = 0

  constructor(
    private readonly seed: number,
    private readonly purpose: number,
    private readonly index: number,
    private readonly attempt: number,
  ) {}

  bits(): number {
    if (this.j >= DRAWS_PER_ATTEMPT) throw new Error('tasks: too many draws for one attempt')
    const b = this.purpose * 0x1000000 + this.attempt * DRAWS_PER_ATTEMPT + this.j++
    return randomBits(this.seed, Stream.task, this.index, b)
  }

  /** Integer in [lo, hi]; the modulo bias is below 1e-6 for the small ranges used here. */
  int(lo: number, hi: number): number {
    return lo + (this.bits() % (hi - lo + 1))
  }

  chance(p: number): boolean {
    return (this.bits() >>> 8) / 16777216 < p
  }
}

/**
 * Draws candidates (attempt 0, 1, …) until one falls in `split`. The split test is a 1-in-10 hash,
 * so the expected number of attempts is small; the cap only guards against a broken generator.
 */
export function drawInSplit<T>(
  split: 'train' | 'test',
  seed: number,
  purpose: number,
  index: number,
  candidate: (d: Draws) => T | null,
  key: (t: T) => string,
): T {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const c = candidate(new Draws(seed, purpose, index, attempt))
    if (c !== null && splitOf(key(c)) === split) return c
  }
  throw new Error(`tasks: no ${split} problem found for index ${index}`)
}

/** A value as a short text for error messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing'
  let s: string
  try {
    s = JSON.stringify(v) ?? String(v)
  } catch {
    s = String(v)
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/** The problem's JSON object, or a TaskInputError that names the fields allowed. */
export function problemObject(data: unknown, fields: string[], example: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new TaskInputError('problem', `got ${describeValue(data)}; allowed: an object like ${example}`)
  }
  const o = data as Record<string, unknown>
  for (const k of Object.keys(o)) {
    if (!fields.includes(k)) throw new TaskInputError(k, `unknown field; allowed: ${fields.join(', ')}`)
  }
  return o
}

/** Sorted characters of `texts`, without duplicates: a tokenizer alphabet. */
export function alphabetOf(...texts: string[]): string {
  return Array.from(new Set(texts.join(''))).sort().join('')
}
