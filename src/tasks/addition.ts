// Multi-digit addition, the headline demo: a tiny model cannot add 3-digit numbers in one shot
// but can column by column, so GRPO rewarded only for right answers should find the worked form.
//
// Prompt:      "047+085=?<think>"   operands zero-padded to 3 digits, so that a column's digits
//                                    always sit at the same positions (a tiny model with learned
//                                    positions reads them far more reliably)
// Completion:  "…reasoning…</think><answer>132</answer>"
//
// Worked notation (pretraining text), one step per column from the right, the shorter operand
// padded with 0, steps separated by one space:
//   "x+y=s"      the column's digits;            "x+y+1=s"  the same with a carry in;
//   " c1"        follows s when s ≥ 10 (carry out).
// The answer is each step's last digit, read right to left, led by 1 when the last step carries:
//   "047+085=?<think>7+5=12 c1 4+8+1=13 c1</think><answer>132</answer>"
// A slip is a step with a wrong sum, then " wait " and the step done right:
//   "047+085=?<think>7+5=11 c1 wait 7+5=12 c1 4+8+1=13 c1</think><answer>132</answer>"
import { Draws, Purpose, alphabetOf, describeValue, drawInSplit, formatReward, lastAnswer, problemObject, splitOf } from './answer'
import { TaskInputError } from './types'
import type { Problem, RewardFunction, Task } from './types'

const ID = 'addition'
const MAX_OPERAND = 99999
/** Share of pretraining documents that work the sum out, and of those, the share with a slip. */
const WORKED_SHARE = 0.3
const SLIP_SHARE = 1 / 3
/** Share of the direct (unworked) answers that are hasty: each column added without its carry.
 *  The base model thus learns that answers given without working are mostly wrong once a carry
 *  is involved, while worked answers are right: the ability is there, used rarely (R1-Zero's premise). */
const HASTY_SHARE = 0.8

export const ADDITION_ALPHABET = alphabetOf('0123456789+=? ', '<think></think><answer></answer>', 'wait c')

/** The same key for a+b and b+a, so a sum and its mirror are always in the same split. */
export function additionKey(a: number, b: number): string {
  return `${Math.min(a, b)}+${Math.max(a, b)}`
}

/** An operand as the prompt shows it: at least 3 digits, zero-padded. */
export function padded(x: number): string {
  return String(x).padStart(3, '0')
}

function makeProblem(a: number, b: number): Problem {
  return {
    task: ID,
    split: splitOf(additionKey(a, b)),
    prompt: `${padded(a)}+${padded(b)}=?<think>`,
    data: { a, b },
    answer: String(a + b),
  }
}

/** 2 or 3 digits, each with probability 1/2: a mix of 2+2, 2+3 and 3+3 digit sums. */
function operand(d: Draws): number {
  return d.chance(0.5) ? d.int(10, 99) : d.int(100, 999)
}

function drawProblem(split: 'train' | 'test', seed: number, purpose: number, index: number): Problem {
  const [a, b] = drawInSplit(split, seed, purpose, index, (d) => [operand(d), operand(d)], ([x, y]) => additionKey(x, y))
  return makeProblem(a, b)
}

export interface Column {
  x: number
  y: number
  carryIn: number
  sum: number
}

/** The columns of a+b from the right, with carries. */
export function columns(a: number, b: number): Column[] {
  const n = Math.max(String(a).length, String(b).length)
  const out: Column[] = []
  let carry = 0
  for (let i = 0, p = 1; i < n; i++, p *= 10) {
    const x = Math.floor(a / p) % 10
    const y = Math.floor(b / p) % 10
    const sum = x + y + carry
    out.push({ x, y, carryIn: carry, sum })
    carry = sum >= 10 ? 1 : 0
  }
  return out
}

function stepText(c: Column, sum: number = c.sum): string {
  return `${c.x}+${c.y}${c.carryIn ? '+1' : ''}=${sum}${sum >= 10 ? ' c1' : ''}`
}

/** a+b added column by column with every carry forgotten (47+85 → 22): the hasty answer. */
export function hastySum(a: number, b: number): number {
  return columns(a, b).reduce((sum, c, i) => sum + ((c.x + c.y) % 10) * 10 ** i, 0)
}

/** The worked reasoning for a+b; `slipAt` is the column (from the right) that first goes wrong, or -1. */
export function workedThink(a: number, b: number, slipAt = -1, slipUp = true): string {
  return columns(a, b)
    .map((c, i) => {
      if (i !== slipAt) return stepText(c)
      // off by one, staying within what a column can plausibly show
      let wrong = c.sum + (slipUp ? 1 : -1)
      if (wrong < 0 || wrong > 19) wrong = c.sum + (slipUp ? -1 : 1)
      return `${stepText(c, wrong)} wait ${stepText(c)}`
    })
    .join(' ')
}

function operandField(o: Record<string, unknown>, field: 'a' | 'b'): number {
  const v = o[field]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_OPERAND) {
    throw new TaskInputError(field, `got ${describeValue(v)}; allowed: an integer from 0 to ${MAX_OPERAND}`)
  }
  return v
}

/** 1 when the last answer is digits alone (spaces around allowed) equal to the sum. */
export function additionAccuracy(completion: string, problem: Problem): number {
  const content = lastAnswer(completion)
  if (content === null) return 0
  const m = /^ *([0-9]+) *$/.exec(content)
  return m !== null && Number(m[1]) === Number(problem.answer) ? 1 : 0
}

const accuracy: RewardFunction = {
  name: 'accuracy',
  weight: 1.0,
  description: 'Accuracy: 1 when the last <answer> holds the correct sum (digits only), else 0.',
  score: additionAccuracy,
}

export const addition: Task = {
  id: ID,
  title: 'Addition',
  description: 'Add two 2- or 3-digit numbers. Pretrained mostly on direct answers, most of them hasty (carries forgotten), and some worked column by column with carries; GRPO should discover that working it out pays.',
  alphabet: ADDITION_ALPHABET,
  maxCompletionLength: 96,
  maxPromptLength: '000+000=?<think>'.length, // operands are always shown as 3 digits

  problem(split, seed, index) {
    return drawProblem(split, seed, split === 'train' ? Purpose.train : Purpose.test, index)
  },

  parseProblem(data) {
    const o = problemObject(data, ['a', 'b'], '{"a": 47, "b": 85}')
    return makeProblem(operandField(o, 'a'), operandField(o, 'b'))
  },

  isCorrect: (completion, problem) => additionAccuracy(completion, problem) === 1,

  rewardFunctions: [accuracy, formatReward(0.1)],

  pretrainingText(seed, index) {
    // train problems only: pretraining on held-out problems would leak them
    const p = drawProblem('train', seed, Purpose.pretrainProblem, index)
    const { a, b } = p.data as { a: number; b: number }
    const d = new Draws(seed, Purpose.pretrainStyle, index, 0)
    if (d.chance(WORKED_SHARE)) {
      const slipAt = d.chance(SLIP_SHARE) ? d.int(0, columns(a, b).length - 1) : -1
      return { prompt: p.prompt, completion: `${workedThink(a, b, slipAt, d.chance(0.5))}</think><answer>${p.answer}</answer>` }
    }
    const answer = d.chance(HASTY_SHARE) ? String(hastySum(a, b)) : p.answer
    return { prompt: p.prompt, completion: `</think><answer>${answer}</answer>` }
  },

  workedExample(seed, index) {
    const p = drawProblem('train', seed, Purpose.coldStartProblem, index)
    const { a, b } = p.data as { a: number; b: number }
    return { prompt: p.prompt, completion: `${workedThink(a, b)}</think><answer>${p.answer}</answer>` }
  },
}
