// Countdown, TinyZero's task: combine the given numbers, each exactly once, with + - * / and
// parentheses to reach the target. Scored exactly as TinyZero's countdown `compute_score`.
//
// Prompt:      "[3,7,25,50]=79?<think>"   the numbers in random order, then the target
// Completion:  "…reasoning…</think><answer>50+25+7-3</answer>"
// Pretraining text is mostly a direct answer; a minority writes out a short search first, each
// try as "equation=value", a wrong one followed by " wait ":
//   "[3,7,25,50]=79?<think>3*7+50-25=46 wait 50+25+7-3=79</think><answer>50+25+7-3</answer>"
import { Draws, Purpose, alphabetOf, describeValue, drawInSplit, formatReward, lastAnswer, problemObject, splitOf } from './answer'
import { TaskInputError } from './types'
import type { Problem, RewardFunction, Task } from './types'

const ID = 'countdown'
/** Generated problems: every number and every intermediate value stays in [1, MAX_VALUE]. */
const MAX_VALUE = 999
const MAX_INPUT_NUMBER = 1000
const MAX_INPUT_TARGET = 1_000_000
const WORKED_SHARE = 0.3
const MAX_COMPLETION = 96
/** TinyZero's scores: right, formatted but wrong, no answer. */
const SCORE_RIGHT = 1.0
const SCORE_FORMAT = 0.1

export const COUNTDOWN_ALPHABET = alphabetOf('0123456789+-*/() ', '[,]=?', '<think></think><answer></answer>', 'wait')

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
  return { value, text: left + op + right, prec: p }
}

/**
 * A random expression over all of `numbers`: repeatedly join two random items with an operation
 * chosen among those that keep the value a whole number in [1, MAX_VALUE] (subtraction larger minus
 * smaller, division exact and not by 1). Null when some pair has no such operation.
 */
function randomExpression(d: Draws, numbers: readonly number[]): Expr | null {
  const pool = numbers.map(leaf)
  while (pool.length > 1) {
    const x = pool.splice(d.int(0, pool.length - 1), 1)[0]
    const y = pool.splice(d.int(0, pool.length - 1), 1)[0]
    const [big, small] = x.value >= y.value ? [x, y] : [y, x]
    const options: Expr[] = []
    if (x.value + y.value <= MAX_VALUE) options.push(combine(x, '+', y))
    if (big.value > small.value) options.push(combine(big, '-', small))
    if (x.value * y.value <= MAX_VALUE) options.push(combine(x, '*', y))
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

function generate(d: Draws): Generated | null {
  const n = d.chance(0.5) ? 3 : 4
  const numbers = Array.from({ length: n }, () => d.int(1, 99))
  const e = randomExpression(d, numbers)
  return e === null ? null : { numbers, target: e.value, answer: e.text }
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

function drawProblem(split: 'train' | 'test', seed: number, purpose: number, index: number): Problem {
  const g = drawInSplit(split, seed, purpose, index, generate, (c) => countdownKey(c.numbers, c.target))
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

export const countdown: Task = {
  id: ID,
  title: 'Countdown',
  description: "TinyZero's Countdown: reach the target with the 3 or 4 given numbers, each used once, and + - * /.",
  alphabet: COUNTDOWN_ALPHABET,
  maxCompletionLength: MAX_COMPLETION,
  maxPromptLength: `[${[99, 99, 99, 99]}]=${MAX_VALUE}?<think>`.length, // 4 numbers of 1–99, a target up to MAX_VALUE

  problem(split, seed, index) {
    return drawProblem(split, seed, split === 'train' ? Purpose.train : Purpose.test, index)
  },

  parseProblem(data) {
    const o = problemObject(data, ['numbers', 'target'], '{"numbers": [3, 7, 25, 50], "target": 79}')
    const numbers = o.numbers
    if (
      !Array.isArray(numbers) || numbers.length < 2 || numbers.length > 6 ||
      !numbers.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_INPUT_NUMBER)
    ) {
      throw new TaskInputError('numbers', `got ${describeValue(numbers)}; allowed: 2 to 6 integers from 1 to ${MAX_INPUT_NUMBER}`)
    }
    const target = o.target
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
    const p = drawProblem('train', seed, Purpose.pretrainProblem, index)
    const d = new Draws(seed, Purpose.pretrainStyle, index, 0)
    if (!d.chance(WORKED_SHARE)) return { prompt: p.prompt, completion: `</think><answer>${p.answer}</answer>` }
    return { prompt: p.prompt, completion: searchCompletion(p, seed, Purpose.pretrainStyle, index, d.chance(0.5) ? 1 : 2) }
  },

  workedExample(seed, index) {
    const p = drawProblem('train', seed, Purpose.coldStartProblem, index)
    return { prompt: p.prompt, completion: searchCompletion(p, seed, Purpose.coldStartStyle, index, 1) }
  },
}

/** A search written out: `wanted` wrong tries, each a random expression over the problem's
 *  numbers followed by " wait ", then the right expression, then the answer. */
function searchCompletion(p: Problem, seed: number, purpose: number, index: number, wanted: number): string {
  const { numbers, target } = problemData(p)
  const direct = `</think><answer>${p.answer}</answer>`
  const tries: string[] = []
  for (let attempt = 1; tries.length < wanted && attempt <= 20; attempt++) {
    const e = randomExpression(new Draws(seed, purpose, index, attempt), numbers)
    if (e !== null && e.value !== target) tries.push(`${e.text}=${e.value} wait `)
  }
  const finalTry = `${p.answer}=${target}`
  // drop tries until the completion fits the default length
  while (tries.length > 0 && tries.join('').length + finalTry.length + direct.length > MAX_COMPLETION) tries.pop()
  return tries.join('') + finalTry + direct
}
