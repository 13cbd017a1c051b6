// Countdown, TinyZero's task: combine the given numbers, each exactly once, with + - * / and
// parentheses to reach the target. Scored exactly as TinyZero's countdown `compute_score`.
//
// Prompt:      "[3,7,25]=79?<think>"   the numbers in random order, then the target
// Completion:  "…reasoning…</think><answer>3*25+7</answer>"
// Difficulty: how many numbers (3 or 4), the largest number and the largest target are options
// (countdownTask; the run config's countdown_* keys reach it through taskFor).
//
// Pretraining text is a search (see "The search corpus" below), written in one format:
//   "[3,7,5]=26?<think>7+5*3=7+15=22 wait 7*3+5=21+5=26 test 7*3=21 21+5=26</think><answer>7*3+5</answer>"
// a try is "EXPR=…=VALUE" over all the numbers, rewritten one operation at a time down to its
// value; a miss is followed by " wait ", a hit by a check ("test", then each operation recomputed
// on values) and the answer. Every word is made of letters
// the tags already use, so a tokenizer of the old corpus still covers the task.
import { Draws, Purpose, alphabetOf, describeValue, drawInSplit, formatReward, lastAnswer, problemObject, splitOf } from './answer'
import { TaskInputError } from './types'
import type { Problem, Reasoning, RewardFunction, Task, TaskOptions } from './types'

const ID = 'countdown'
/** Generated problems: every number and every intermediate value stays in [1, MAX_VALUE]. */
const MAX_VALUE = 999
const MAX_INPUT_NUMBER = 1000
const MAX_INPUT_TARGET = 1_000_000
const MAX_COMPLETION = 96
/** The task's default max_completion_length (and eval length): the room of the backward searches (BACKWARD_MAX_COMPLETION) */
const DEFAULT_COMPLETION = 128
/** TinyZero's scores: right, formatted but wrong, no answer. */
const SCORE_RIGHT = 1.0
const SCORE_FORMAT = 0.1

/** The search corpus's words: after a miss, and before a check. */
export const MISS_WORD = 'wait'
export const CHECK_WORD = 'test'

export const COUNTDOWN_ALPHABET = alphabetOf('0123456789+-*/() ', '[,]=?', '<think></think><answer></answer>', MISS_WORD, CHECK_WORD)

/** How hard the generated problems are. Parsed problems (parseProblem) are not limited by them. */
export interface CountdownOptions {
  /** how many numbers each problem gives: 3 or 4 */
  numbers: number
  /** the given numbers are drawn from 1 to this */
  maxNumber: number
  /** the target is at most this (it is at least 1) */
  maxTarget: number
  /** the pretraining documents' search; COUNTDOWN_CORPUS when absent */
  corpus?: CountdownCorpus
  /** the backward documents' room for a completion; BACKWARD_MAX_COMPLETION when absent */
  room?: number
}

export const COUNTDOWN_LIMITS = { numbers: [3, 4], maxNumber: [5, 99], maxTarget: [10, MAX_VALUE] } as const
export const DEFAULT_COUNTDOWN: CountdownOptions = { numbers: 3, maxNumber: 99, maxTarget: MAX_VALUE }

// ---------------------------------------------------------------------------------------------
// The safe evaluator: a recursive-descent parser for the part of Python's expression grammar that
// TinyZero's character filter lets through to its eval(). It computes; it never runs anything.
//   expr   := term (('+' | '-') term)*
//   term   := factor (('*' | '/' | '//') factor)*
//   factor := ('+' | '-') factor | power          unary signs are accepted, as Python does:
//   power  := atom ['**' factor]                  "-3+50+..." is valid if the numbers are right
//   atom   := NUMBER | '(' expr ')'
// NUMBER follows Python: "12", "1.5", ".5", "5."; "07" is a syntax error (but "00" is not).
// Arithmetic is in doubles where Python uses exact integers; they differ only for values past 2^53.
// Every failure (bad character, syntax, division by zero, non-finite result) gives null.

type Token = { kind: 'num'; value: number } | { kind: 'op'; op: string }

const NUMBER = /(?:[0-9]+\.?[0-9]*|\.[0-9]+)/y
const MAX_DEPTH = 200

function tokenize(s: string): Token[] | null {
  const out: Token[] = []
  let i = 0
  while (i < s.length) {
    const c = s[i]
    if (c === ' ' || c === '\t' || c === '\f') {
      i++
    } else if ((c >= '0' && c <= '9') || c === '.') {
      NUMBER.lastIndex = i
      const m = NUMBER.exec(s)
      if (!m) return null
      const text = m[0]
      if (!text.includes('.') && /^0+[1-9]/.test(text)) return null
      out.push({ kind: 'num', value: Number(text) })
      i += text.length
    } else if ((c === '*' || c === '/') && s[i + 1] === c) {
      out.push({ kind: 'op', op: c + c })
      i += 2
    } else if ('+-*/()'.includes(c)) {
      out.push({ kind: 'op', op: c })
      i++
    } else {
      return null
    }
  }
  return out
}

class ParseError extends Error {}

/** Python's float floor division (CPython's _float_div_mod): not floor(a / b), which can differ by 1. */
function floorDivide(a: number, b: number): number {
  const mod = a % b // C's fmod
  let div = (a - mod) / b
  if (mod !== 0 && b < 0 !== mod < 0) div -= 1
  if (div === 0) return 0
  let q = Math.floor(div)
  if (div - q > 0.5) q += 1
  return q
}

/** The value of an arithmetic equation, or null when Python's eval would fail or give no number. */
export function evaluateEquation(equation: string): number | null {
  const tokens = tokenize(equation)
  if (tokens === null) return null
  let pos = 0
  let depth = 0
  const isOp = (op: string): boolean => {
    const t = tokens[pos]
    return t !== undefined && t.kind === 'op' && t.op === op
  }
  const enter = (): void => {
    if (++depth > MAX_DEPTH) throw new ParseError('too deep')
  }
  const expr = (): number => {
    enter()
    let v = term()
    while (isOp('+') || isOp('-')) {
      const op = (tokens[pos++] as { op: string }).op
      const r = term()
      v = op === '+' ? v + r : v - r
    }
    depth--
    return v
  }
  const term = (): number => {
    let v = factor()
    while (isOp('*') || isOp('/') || isOp('//')) {
      const op = (tokens[pos++] as { op: string }).op
      const r = factor()
      if (op === '*') v *= r
      else if (r === 0) throw new ParseError('division by zero')
      else v = op === '/' ? v / r : floorDivide(v, r)
    }
    return v
  }
  const factor = (): number => {
    if (isOp('+') || isOp('-')) {
      const op = (tokens[pos++] as { op: string }).op
      enter()
      const v = factor()
      depth--
      return op === '-' ? -v : v
    }
    return power()
  }
  const power = (): number => {
    const base = atom()
    if (!isOp('**')) return base
    pos++
    enter()
    const exponent = factor()
    depth--
    if (base === 0 && exponent < 0) throw new ParseError('zero to a negative power')
    return Math.pow(base, exponent)
  }
  const atom = (): number => {
    const t = tokens[pos++]
    if (t === undefined) throw new ParseError('unexpected end')
    if (t.kind === 'num') return t.value
    if (t.op !== '(') throw new ParseError(`unexpected ${t.op}`)
    const v = expr()
    if (!isOp(')')) throw new ParseError('missing )')
    pos++
    return v
  }
  try {
    const v = expr()
    if (pos !== tokens.length) return null
    return Number.isFinite(v) ? v : null
  } catch (e) {
    if (e instanceof ParseError) return null
    throw e
  }
}

/** TinyZero's validate_equation: the integers in the equation (runs of digits) are exactly `numbers`. */
export function usesExactly(equation: string, numbers: readonly number[]): boolean {
  const used = Array.from(equation.matchAll(/[0-9]+/g), (m) => Number(m[0])).sort((x, y) => x - y)
  const given = [...numbers].sort((x, y) => x - y)
  return used.length === given.length && used.every((v, i) => v === given[i])
}

/** TinyZero's characters allowed into eval: digits, + - * / ( ) . and whitespace. */
const ALLOWED = /^[0-9+\-*/().\s]+$/

/**
 * TinyZero's compute_score: the last line's last <answer> (stripped) is the equation; none → 0;
 * wrong numbers, characters outside the allowed set, failure to evaluate, or a result 1e-5 or more
 * from the target → 0.1; otherwise 1.
 */
export function countdownScore(completion: string, numbers: readonly number[], target: number): number {
  const lines = completion.split('\n')
  const content = lastAnswer(lines[lines.length - 1])
  if (content === null) return 0
  const equation = content.trim()
  if (!usesExactly(equation, numbers)) return SCORE_FORMAT
  if (!ALLOWED.test(equation)) return SCORE_FORMAT
  const v = evaluateEquation(equation)
  if (v === null) return SCORE_FORMAT
  return Math.abs(v - target) < 1e-5 ? SCORE_RIGHT : SCORE_FORMAT
}

// ---------------------------------------------------------------------------------------------
// Expressions: built bottom-up from the numbers, printed with only the parentheses they need.

interface Expr {
  value: number
  text: string
  /** 1 for + -, 2 for * /, 3 for a number or a parenthesised expression */
  prec: number
  /** the operation that made it, for a check that recomputes it step by step; absent for a number */
  parts?: { x: Expr; op: string; y: Expr }
}

const PREC: Record<string, number> = { '+': 1, '-': 1, '*': 2, '/': 2 }

function leaf(n: number): Expr {
  return { value: n, text: String(n), prec: 3 }
}

function combine(x: Expr, op: string, y: Expr): Expr {
  const p = PREC[op]
  const left = x.prec < p ? `(${x.text})` : x.text
  // a-(b+c) and a/(b*c) keep their parentheses; a+(b-c) and a*(b/c) need none
  const right = y.prec < p || (y.prec === p && (op === '-' || op === '/')) ? `(${y.text})` : y.text
  const value = op === '+' ? x.value + y.value : op === '-' ? x.value - y.value : op === '*' ? x.value * y.value : x.value / y.value
  return { value, text: left + op + right, prec: p, parts: { x, op, y } }
}

/** `e` with its first operation (in the order stepsOf computes them) replaced by its value. */
function reduceOnce(e: Expr): Expr {
  if (!e.parts) return e
  const { x, op, y } = e.parts
  if (x.parts) return combine(reduceOnce(x), op, y)
  if (y.parts) return combine(x, op, reduceOnce(y))
  return leaf(e.value)
}

/** `e` rewritten one operation at a time down to its value: "7*3+5=21+5=26". */
function chainOf(e: Expr): string[] {
  const out = [e.text]
  for (let r = e; r.parts; ) {
    r = reduceOnce(r)
    out.push(r.text)
  }
  return out
}

/** The operations of `e` in the order they are computed, each "x op y=value" on values. */
function stepsOf(e: Expr): string[] {
  if (!e.parts) return []
  const { x, op, y } = e.parts
  return [...stepsOf(x), ...stepsOf(y), `${x.value}${op}${y.value}=${e.value}`]
}

/**
 * A random expression over all of `numbers`: repeatedly join two random items with an operation
 * chosen among those that keep the value a whole number in [1, MAX_VALUE] (subtraction larger minus
 * smaller, division exact and not by 1). Null when some pair has no such operation.
 */
function randomExpression(d: Draws, numbers: readonly number[]): Expr | null {
  const MAX = MAX_VALUE
  const pool = numbers.map(leaf)
  while (pool.length > 1) {
    const x = pool.splice(d.int(0, pool.length - 1), 1)[0]
    const y = pool.splice(d.int(0, pool.length - 1), 1)[0]
    const [big, small] = x.value >= y.value ? [x, y] : [y, x]
    const options: Expr[] = []
    if (x.value + y.value <= MAX) options.push(combine(x, '+', y))
    if (big.value > small.value) options.push(combine(big, '-', small))
    if (x.value * y.value <= MAX) options.push(combine(x, '*', y))
    if (small.value > 1 && big.value % small.value === 0) options.push(combine(big, '/', small))
    if (options.length === 0) return null
    pool.push(options[d.int(0, options.length - 1)])
  }
  return pool[0]
}

interface Generated {
  numbers: number[]
  target: number
  answer: string
}

/** Sorted numbers and the target: the order the numbers are shown in does not make a new problem. */
export function countdownKey(numbers: readonly number[], target: number): string {
  return `${[...numbers].sort((x, y) => x - y).join(',')}=${target}`
}

function generate(d: Draws, o: CountdownOptions): Generated | null {
  const numbers = Array.from({ length: o.numbers }, () => d.int(1, o.maxNumber))
  const e = randomExpression(d, numbers)
  return e === null || e.value > o.maxTarget ? null : { numbers, target: e.value, answer: e.text }
}

function makeProblem(numbers: number[], target: number, answer: string): Problem {
  return {
    task: ID,
    split: splitOf(countdownKey(numbers, target)),
    prompt: `[${numbers.join(',')}]=${target}?<think>`,
    data: { numbers, target },
    answer,
  }
}

function drawProblem(o: CountdownOptions, split: 'train' | 'test', seed: number, purpose: number, index: number): Problem {
  const g = drawInSplit(split, seed, purpose, index, (d) => generate(d, o), (c) => countdownKey(c.numbers, c.target))
  return makeProblem(g.numbers, g.target, g.answer)
}

/**
 * An equation over all of `numbers` that reaches `target`, or null: a depth-first search joining
 * pairs with the six operations (both orders of - and /), fractions allowed as TinyZero's true
 * division allows them; multisets of values already searched are skipped. An exact equation is
 * preferred to one that only lands within TinyZero's 1e-5.
 */
export function solveCountdown(numbers: readonly number[], target: number): string | null {
  return searchEquation(numbers, target, 1e-9) ?? searchEquation(numbers, target, 1e-5)
}

function searchEquation(numbers: readonly number[], target: number, tolerance: number): string | null {
  const seen = new Set<string>()
  const search = (items: Expr[]): string | null => {
    if (items.length === 1) {
      const v = evaluateEquation(items[0].text)
      return v !== null && Math.abs(v - target) < tolerance ? items[0].text : null
    }
    const key = items.map((e) => e.value).sort((x, y) => x - y).join(',')
    if (seen.has(key)) return null
    seen.add(key)
    for (let i = 0; i < items.length; i++) {
      for (let j = i + 1; j < items.length; j++) {
        // larger first, so the natural forms (no negative or fractional steps) are tried first
        const [x, y] = items[i].value >= items[j].value ? [items[i], items[j]] : [items[j], items[i]]
        const rest = items.filter((_, k) => k !== i && k !== j)
        const options = [combine(x, '+', y), combine(x, '*', y), combine(x, '-', y)]
        if (y.value !== 0) options.push(combine(x, '/', y))
        options.push(combine(y, '-', x))
        if (x.value !== 0) options.push(combine(y, '/', x))
        for (const e of options) {
          if (items.length === 2 && Math.abs(e.value - target) > 1e-3) continue
          const found = search([...rest, e])
          if (found !== null) return found
        }
      }
    }
    return null
  }
  return search(numbers.map(leaf))
}

/** What `answer` holds when no equation reaches the target. */
export const NO_SOLUTION = 'no solution'

function problemData(problem: Problem): { numbers: number[]; target: number } {
  return problem.data as { numbers: number[]; target: number }
}

const countdownReward: RewardFunction = {
  name: 'countdown',
  weight: 1.0,
  description: "TinyZero's score: 1 for a right equation using each number once, 0.1 for a wrong one in <answer>, 0 for none.",
  score: (completion, problem) => {
    const { numbers, target } = problemData(problem)
    return countdownScore(completion, numbers, target)
  },
}

/** The task for these options: problems, prompt length and corpus follow them; scoring does not. */
export function countdownTask(o: CountdownOptions): Task {
  checkOptions(o)
  const draw = (split: 'train' | 'test', seed: number, purpose: number, index: number) => drawProblem(o, split, seed, purpose, index)
  return {
    id: ID,
    title: 'Countdown',
    description: `TinyZero's Countdown: reach the target (1 to ${o.maxTarget}) with the ${o.numbers} given numbers (1 to ${o.maxNumber}), each used once, and + - * /.`,
    alphabet: COUNTDOWN_ALPHABET,
    // the room of the backward searches the shipped base writes (the forward corpus keeps MAX_COMPLETION)
    maxCompletionLength: DEFAULT_COMPLETION,
    maxPromptLength: `[${Array(o.numbers).fill(o.maxNumber)}]=${o.maxTarget}?<think>`.length,

    problem(split, seed, index) {
      return draw(split, seed, split === 'train' ? Purpose.train : Purpose.test, index)
    },

    parseProblem(data) {
      const obj = problemObject(data, ['numbers', 'target'], '{"numbers": [3, 7, 25, 50], "target": 79}')
      const numbers = obj.numbers
      if (
        !Array.isArray(numbers) || numbers.length < 2 || numbers.length > 6 ||
        !numbers.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_INPUT_NUMBER)
      ) {
        throw new TaskInputError('numbers', `got ${describeValue(numbers)}; allowed: 2 to 6 integers from 1 to ${MAX_INPUT_NUMBER}`)
      }
      const target = obj.target
      if (typeof target !== 'number' || !Number.isInteger(target) || Math.abs(target) > MAX_INPUT_TARGET) {
        throw new TaskInputError('target', `got ${describeValue(target)}; allowed: an integer from -${MAX_INPUT_TARGET} to ${MAX_INPUT_TARGET}`)
      }
      const nums = numbers as number[]
      return makeProblem([...nums], target, solveCountdown(nums, target) ?? NO_SOLUTION)
    },

    isCorrect: (completion, problem) => countdownReward.score(completion, problem) === SCORE_RIGHT,

    // format weight 0: logged, but the total stays TinyZero's score
    rewardFunctions: [countdownReward, formatReward(0)],

    pretrainingText(seed, index) {
      // train problems only: pretraining on held-out problems would leak them
      const p = draw('train', seed, Purpose.pretrainProblem, index)
      const corpus = o.corpus ?? COUNTDOWN_CORPUS
      const completion = corpus === 'forward'
        ? searchCompletion(p, seed, index, countdownBudget(seed, index))
        : backwardCompletion(p, seed, index, backwardBudget(seed, index, corpus), o.room ?? BACKWARD_MAX_COMPLETION, corpus)
      return { prompt: p.prompt, completion }
    },

    workedExample(seed, index) {
      const p = draw('train', seed, Purpose.coldStartProblem, index)
      return { prompt: p.prompt, completion: workedSearch(p, seed, index) }
    },

    reasoning: countdownReasoning,
    withOptions: countdownFor,
  }
}

function checkOptions(o: CountdownOptions): void {
  const L = COUNTDOWN_LIMITS
  if (!(L.numbers as readonly number[]).includes(o.numbers)) throw new TaskInputError('numbers', `got ${describeValue(o.numbers)}; allowed: ${L.numbers.join(' or ')}`)
  for (const k of ['maxNumber', 'maxTarget'] as const) {
    const [lo, hi] = L[k]
    if (!Number.isInteger(o[k]) || o[k] < lo || o[k] > hi) throw new TaskInputError(k, `got ${describeValue(o[k])}; allowed: an integer from ${lo} to ${hi}`)
  }
}

const configured = new Map<string, Task>()

/** The task for a run config's countdown_* keys (defaults for those it lacks), one object per options. */
export function countdownFor(t: TaskOptions): Task {
  const o: CountdownOptions = {
    numbers: t.countdown_numbers ?? DEFAULT_COUNTDOWN.numbers,
    maxNumber: t.countdown_max_number ?? DEFAULT_COUNTDOWN.maxNumber,
    maxTarget: t.countdown_max_target ?? DEFAULT_COUNTDOWN.maxTarget,
  }
  const key = `${o.numbers},${o.maxNumber},${o.maxTarget}`
  let task = configured.get(key)
  if (!task) {
    task = countdownTask(o)
    configured.set(key, task)
  }
  return task
}

/** The default task (3 numbers of 1–99, targets up to 999): what `getTask('countdown')` gives. */
export const countdown: Task = countdownFor({})

// ---------------------------------------------------------------------------------------------
// The search corpus. A document is a direct guess (a random expression in <answer>, right only by
// chance) or a search with a budget of tries, drawn from COUNTDOWN_BUDGETS. Each try is a random
// expression over all the numbers (none tried twice), written "EXPR=…=VALUE", one operation at a
// time down to its value (a small model computes one operation at a time, not a whole expression):
//   a hit (VALUE is the target) is checked: " test " and each operation recomputed, then the answer;
//   a miss is followed by " wait " and the next try, or, once the budget is spent, by the answer
//   anyway: that try's expression, wrong;
//   a hunch (HUNCH_SHARE of tries) is the problem's own answer instead of a random expression;
//   a slip (SLIP_SHARE of misses) writes the target as VALUE; the check then recomputes the true
//   value, and the search goes on (" wait ") or gives up.
// So more tries are more often right (the length GRPO can stretch), checking catches slips, and a
// base model that copies the corpus's mix of budgets is right only now and then. Tries stop early
// when the next one (with its check and the answer) would not fit in MAX_COMPLETION characters.

/** Shares of the search budgets (0 = a direct guess). */
export const COUNTDOWN_BUDGETS: readonly { tries: number; share: number }[] = [
  { tries: 0, share: 0.3 }, { tries: 1, share: 0.3 }, { tries: 2, share: 0.2 }, { tries: 4, share: 0.12 }, { tries: 8, share: 0.08 },
]
export const SLIP_SHARE = 0.1
/** Tries that are a hunch: the problem's own answer (when not yet tried) in place of a random expression. */
export const HUNCH_SHARE = 0.4
const DISTINCT_ATTEMPTS = 20

/** Document `index`'s budget drawn from `budgets` by their shares (one draw of its style stream). */
function drawBudget(seed: number, index: number, budgets: readonly { tries: number; share: number }[]): number {
  const u = new Draws(seed, Purpose.pretrainStyle, index, 0).bits() / 2 ** 32
  let acc = 0
  for (const b of budgets) {
    acc += b.share
    if (u < acc) return b.tries
  }
  return budgets[budgets.length - 1].tries
}

/** Pretraining document `index`'s budget of tries. */
export function countdownBudget(seed: number, index: number): number {
  return drawBudget(seed, index, COUNTDOWN_BUDGETS)
}

/** A try: the expression rewritten one operation at a time, its last step written as `value`
 *  (the true value, or the target in a slip). */
const tryPart = (e: Expr, value: number) => [...chainOf(e).slice(0, -1), String(value)].join('=')
const answerPart = (e: string) => `</think><answer>${e}</answer>`
const checkPart = (e: Expr) => ` ${CHECK_WORD} ${stepsOf(e).join(' ')}`
const SEP = ` ${MISS_WORD} `

/** A search of `budget` tries at most, written out as the corpus format says. */
function searchCompletion(p: Problem, seed: number, index: number, budget: number): string {
  const { numbers, target } = problemData(p)
  const segments: string[] = []
  const seen = new Set<string>()
  let last: string | null = null
  let attempt = 1
  while (segments.length < budget && attempt <= DISTINCT_ATTEMPTS * budget) {
    const d = new Draws(seed, Purpose.pretrainStyle, index, attempt++)
    const e = d.chance(HUNCH_SHARE) && !seen.has(p.answer) ? answerExpression(p.answer, numbers) : randomExpression(d, numbers)
    if (e === null || seen.has(e.text)) continue
    seen.add(e.text)
    const hit = e.value === target
    const slip = !hit && d.chance(SLIP_SHARE)
    const segment = hit || slip ? `${tryPart(e, target)}${checkPart(e)}` : tryPart(e, e.value)
    const written = [...segments, segment].join(SEP)
    if (written.length + answerPart(e.text).length > MAX_COMPLETION) break
    segments.push(segment)
    last = e.text
    if (hit) break
  }
  // a direct guess, or a search that found nothing (or nothing that fits): a random expression
  if (last === null) last = directGuess(seed, index, numbers)
  return segments.join(SEP) + answerPart(last)
}

function directGuess(seed: number, index: number, numbers: readonly number[]): string {
  for (let attempt = DISTINCT_ATTEMPTS * 10; attempt < DISTINCT_ATTEMPTS * 11; attempt++) {
    const e = randomExpression(new Draws(seed, Purpose.pretrainStyle, index, attempt), numbers)
    if (e !== null) return e.text
  }
  return numbers.join('+')
}

/** A cold-start search: one or two misses, then the problem's own answer, checked. Always right. */
function workedSearch(p: Problem, seed: number, index: number): string {
  const { numbers, target } = problemData(p)
  const d0 = new Draws(seed, Purpose.coldStartStyle, index, 0)
  const wanted = d0.chance(0.5) ? 1 : 2
  const right = answerExpression(p.answer, numbers)
  const final = right ? `${tryPart(right, target)}${checkPart(right)}` : `${p.answer}=${target}`
  const misses: string[] = []
  for (let attempt = 1; misses.length < wanted && attempt <= DISTINCT_ATTEMPTS; attempt++) {
    const e = randomExpression(new Draws(seed, Purpose.coldStartStyle, index, attempt), numbers)
    if (e !== null && e.value !== target) misses.push(tryPart(e, e.value))
  }
  while (misses.length > 0 && [...misses, final].join(SEP).length + answerPart(p.answer).length > MAX_COMPLETION) misses.pop()
  return [...misses, final].join(SEP) + answerPart(p.answer)
}

/** The expression tree of a generated answer, for its check: the first tree over the same numbers,
 *  with whole non-negative steps, that prints as the answer; null if none does. */
function answerExpression(answer: string, numbers: readonly number[]): Expr | null {
  let found: Expr | null = null
  const search = (items: Expr[]): void => {
    if (found) return
    if (items.length === 1) {
      if (items[0].text === answer) found = items[0]
      return
    }
    for (let i = 0; i < items.length && !found; i++) {
      for (let j = 0; j < items.length && !found; j++) {
        if (i === j) continue
        const rest = items.filter((_, k) => k !== i && k !== j)
        for (const op of ['+', '-', '*', '/']) {
          if (op === '/' && items[j].value === 0) continue
          const e = combine(items[i], op, items[j])
          // whole, non-negative steps only, as the generator makes them
          if (Number.isInteger(e.value) && e.value >= 0) search([...rest, e])
        }
      }
    }
  }
  search(numbers.map(leaf))
  return found
}

// ---------------------------------------------------------------------------------------------
// Reading a completion's reasoning back (the metrics' reflection/* counts): the tokens before
// "</think>", split at spaces. MISS_WORD ends a try; equations before CHECK_WORD are the try
// (one "EXPR=…=VALUE" in the forward corpus; a sub-goal and a pair in the backward one), after it
// the check. "verified" = the last thing before "</think>" is a finished check that nothing
// said "wait" after, and it confirms the answer: forward, the answer is the try's expression and
// the check came to the value the try wrote (a slip's check does not); backward, the check's
// last step is the answer's value. (The target is not consulted: a checked wrong try counts.)

/** A try "EXPR=…=VALUE" (or a check's step "x op y=VALUE"): the expression first, the value last. */
const EQUATION = /^([0-9+\-*/().]+)(?:=[0-9+\-*/().]+)*=(-?[0-9.]+)$/

export function countdownReasoning(completion: string): Reasoning {
  const end = completion.indexOf('</think>')
  const think = end < 0 ? completion : completion.slice(0, end)
  let tries = 0
  let checks = 0
  let waits = 0
  let inCheck = false
  /** the try's last equation (the forward try itself; the backward pair) since the last MISS_WORD */
  let lastTry: { expr: string; value: string } | null = null
  /** the value the current check came to; null when the last try has no check */
  let checked: string | null = null
  for (const token of think.split(' ')) {
    const m = EQUATION.exec(token)
    if (token === MISS_WORD) {
      waits++
      inCheck = false
      lastTry = null
    } else if (token === CHECK_WORD) {
      checks++
      inCheck = true
      checked = null
    } else if (m && inCheck) {
      checked = m[2]
    } else if (m) {
      if (lastTry === null) tries++ // a backward try's second equation is the same try
      lastTry = { expr: m[1], value: m[2] }
      checked = null
    }
  }
  const answer = end < 0 ? null : lastAnswer(completion.slice(end))?.trim() ?? null
  let verified = false
  if (lastTry !== null && inCheck && checked !== null && answer !== null) {
    verified = answer === lastTry.expr ? checked === lastTry.value : evaluateEquation(answer) === Number(checked)
  }
  return { tries, checks, waits, verified }
}

// ---------------------------------------------------------------------------------------------
// The backward (sub-goal) corpus, the alternative style COUNTDOWN_CORPUS selects. For 3 numbers,
// every answer is "PAIR op c" or "c op PAIR": set one number c aside, undo the last operation on
// the target to get the sub-goal the other two must reach, then combine those two:
//   "[7,3,5]=26?<think>26+7=33 5*3=15 wait 26-5=21 7*3=21 test 7*3=21 21+5=26</think><answer>7*3+5</answer>"
// a try is "SUBGOAL PAIR": the sub-goal computed from the target and c ("26-5=21" for PAIR+5),
// then the pair's operation that comes closest to it, computed ("7*3=21"); a hit when the two
// values are equal: " test " and the full expression step by step, then the answer; a miss:
// " wait " and the next sub-goal, or (budget spent) the answer anyway, that try's expression.
// Both values are computed before any comparison, so copying the target into a try does not
// pay. The sub-goals are a fixed enumeration (the last operation in BACKWARD_OPS' order, then c
// in the prompt's order), none written twice, so a later try is as likely to hit as an earlier
// one; a full enumeration always hits on a generated problem. Budgets (BACKWARD_BUDGETS) make
// most documents give up after the first miss, so a greedy base that copies them stops early,
// while searching on (one token: " wait " in place of "</think>") pays: the length GRPO can stretch.
// Problems of 4 numbers fall back to the forward search (their answers need not have this shape).
// Two variants: `reachable` skips the sub-goals the pair cannot reach (above a·b and a+b);
// `shuffled` also takes the reachable sub-goals in each document's own random order, not the
// enumeration's, so that every kind of sub-goal (t−c and t+c too, those of the commonest answers
// PAIR ± c, which the fixed order puts last) is often a first try, and its searches run longer
// (SHUFFLED_BUDGETS).

export type CountdownCorpus = 'forward' | 'backward' | 'reachable' | 'shuffled'
export const COUNTDOWN_CORPORA: readonly CountdownCorpus[] = ['forward', 'backward', 'reachable', 'shuffled']
export const isCountdownCorpus = (s: string): s is CountdownCorpus => (COUNTDOWN_CORPORA as readonly string[]).includes(s)
/** Which search the pretraining documents write by default: the forward random tries, or the
 *  backward sub-goals (`grpo-lab pretrain --countdown-corpus backward`; its documents need a
 *  block of 160, beyond the default task's limits: see BACKWARD_MAX_COMPLETION). */
export const COUNTDOWN_CORPUS: CountdownCorpus = 'forward'
/** Shares of the backward search's budgets (0 = a direct guess; Infinity = until a hit or out of room). */
export const BACKWARD_BUDGETS: readonly { tries: number; share: number }[] = [
  { tries: 0, share: 0.3 }, { tries: 1, share: 0.4 }, { tries: 2, share: 0.1 }, { tries: 4, share: 0.1 }, { tries: Infinity, share: 0.1 },
]
/** The reachable corpus's budgets: most documents a direct guess, so that a base copying them is
 *  right ≤ 20% of the time although its first try hits half the problems. */
export const REACHABLE_BUDGETS: readonly { tries: number; share: number }[] = [
  { tries: 0, share: 0.6 }, { tries: 1, share: 0.25 }, { tries: 2, share: 0.05 }, { tries: 4, share: 0.05 }, { tries: Infinity, share: 0.05 },
]
/** The shuffled corpus's budgets: as many direct guesses (the greedy base still guesses), but
 *  longer searches (0.61 tries a document against the reachable corpus's 0.53). */
export const SHUFFLED_BUDGETS: readonly { tries: number; share: number }[] = [
  { tries: 0, share: 0.6 }, { tries: 1, share: 0.1 }, { tries: 2, share: 0.1 }, { tries: 4, share: 0.1 }, { tries: Infinity, share: 0.1 },
]
/** Room for a backward document's completion: GRPO's max_completion_length of 128 in a block of 160. */
export const BACKWARD_MAX_COMPLETION = DEFAULT_COMPLETION

/** The last operation of a backward answer: how the sub-goal g comes from the target t and the
 *  number c set aside ("t-c=g" for PAIR+c), and the answer it builds; null when g is not a whole
 *  number in [1, MAX_VALUE]. */
interface LastOp {
  subGoal: (t: number, c: number) => { text: string; value: number } | null
  build: (pair: Expr, c: Expr) => Expr
}

const whole = (text: string, value: number) => (Number.isInteger(value) && value >= 1 && value <= MAX_VALUE ? { text: `${text}=${value}`, value } : null)

/** The last operations in enumeration order: the rarer ones first (measured on 3 numbers of 1–9,
 *  targets ≤ 100: the first try hits 12% of problems, the first four 76%, the first five 89%). */
export const BACKWARD_OPS: readonly LastOp[] = [
  { subGoal: (t, c) => (c > 1 ? whole(`${t}*${c}`, t * c) : null), build: (x, c) => combine(x, '/', c) },
  { subGoal: (t, c) => (c > 1 ? whole(`${t}/${c}`, t / c) : null), build: (x, c) => combine(x, '*', c) },
  { subGoal: (t, c) => whole(`${c}-${t}`, c - t), build: (x, c) => combine(c, '-', x) },
  { subGoal: (t, c) => (t > 1 ? whole(`${c}/${t}`, c / t) : null), build: (x, c) => combine(c, '/', x) },
  { subGoal: (t, c) => whole(`${t}-${c}`, t - c), build: (x, c) => combine(x, '+', c) },
  { subGoal: (t, c) => whole(`${t}+${c}`, t + c), build: (x, c) => combine(x, '-', c) },
]

/** One sub-goal try, in enumeration order: the sub-goal, the pair's closest operation, the answer it builds. */
export interface BackwardTry {
  /** the number set aside, and its place in the prompt */
  c: number
  place: number
  /** the last operation: an index into BACKWARD_OPS */
  op: number
  subGoal: string
  goal: number
  pair: string
  full: Expr
  hit: boolean
}

/** The pair operations the generator uses (larger minus smaller, exact division not by 1). */
function pairOptions(x: Expr, y: Expr): Expr[] {
  const [big, small] = x.value >= y.value ? [x, y] : [y, x]
  const out = [combine(x, '+', y)]
  if (big.value > small.value) out.push(combine(big, '-', small))
  out.push(combine(x, '*', y))
  if (small.value > 1 && big.value % small.value === 0) out.push(combine(big, '/', small))
  return out
}

/** Every sub-goal of a 3-number problem in enumeration order, each once (equal numbers give equal sub-goals). */
export function backwardTries(numbers: readonly number[], target: number): BackwardTry[] {
  const out: BackwardTry[] = []
  const seen = new Set<string>()
  BACKWARD_OPS.forEach((op, o) => {
    numbers.forEach((c, i) => {
      const g = op.subGoal(target, c)
      if (g === null || seen.has(g.text)) return
      seen.add(g.text)
      const [a, b] = numbers.filter((_, k) => k !== i)
      // the closest pair value to the sub-goal; the first such in pairOptions' order on a tie
      const pair = pairOptions(leaf(a), leaf(b)).reduce((best, e) => (Math.abs(e.value - g.value) < Math.abs(best.value - g.value) ? e : best))
      const full = op.build(pair, leaf(c))
      out.push({ c, place: i, op: o, subGoal: g.text, goal: g.value, pair: `${pair.text}=${pair.value}`, full, hit: pair.value === g.value })
    })
  })
  return out
}

/** Pretraining document `index`'s budget of backward tries. */
export function backwardBudget(seed: number, index: number, corpus: CountdownCorpus = 'backward'): number {
  return drawBudget(seed, index, corpus === 'backward' ? BACKWARD_BUDGETS : corpus === 'shuffled' ? SHUFFLED_BUDGETS : REACHABLE_BUDGETS)
}

/** Whether the pair left beside c can reach sub-goal g at all: no pair value exceeds a·b or a+b.
 *  The reachable corpus skips the others, as a person does who sees 26·5 = 130 is out of reach of 7 and 3. */
export function reachable(t: BackwardTry, numbers: readonly number[]): boolean {
  const [a, b] = numbers.filter((_, k) => k !== t.place)
  return t.goal <= Math.max(a * b, a + b)
}

/** The draw stream of a shuffled document's order (beyond those of its budget and direct guess). */
const SHUFFLE_ATTEMPT = DISTINCT_ATTEMPTS * 12

/** `tries` in document `index`'s own random order (Fisher–Yates on its counter-based draws). */
export function shuffledTries<T>(tries: readonly T[], seed: number, index: number): T[] {
  const out = [...tries]
  const d = new Draws(seed, Purpose.pretrainStyle, index, SHUFFLE_ATTEMPT)
  for (let i = out.length - 1; i > 0; i--) {
    const j = d.int(0, i)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** A backward search of `budget` tries at most, as `corpus` says: `reachable` and `shuffled` skip
 *  the sub-goals out of the pair's reach, `shuffled` takes them in the document's own order rather
 *  than the enumeration's (every last operation is often a first try, so the base learns to
 *  compute each kind of sub-goal). */
export function backwardCompletion(p: Problem, seed: number, index: number, budget: number, room = BACKWARD_MAX_COMPLETION, corpus: Exclude<CountdownCorpus, 'forward'> = 'backward'): string {
  const onlyReachable = corpus !== 'backward'
  const { numbers, target } = problemData(p)
  if (numbers.length !== 3) return searchCompletion(p, seed, index, Number.isFinite(budget) ? budget : 8)
  const segments: string[] = []
  let last: string | null = null
  const enumeration = backwardTries(numbers, target)
  for (const t of corpus === 'shuffled' ? shuffledTries(enumeration, seed, index) : enumeration) {
    if (onlyReachable && !reachable(t, numbers)) continue
    if (segments.length >= budget) break
    const segment = `${t.subGoal} ${t.pair}` + (t.hit ? checkPart(t.full) : '')
    if ([...segments, segment].join(SEP).length + answerPart(t.full.text).length > room) break
    segments.push(segment)
    last = t.full.text
    if (t.hit) break
  }
  if (last === null) last = directGuess(seed, index, numbers)
  return segments.join(SEP) + answerPart(last)
}
