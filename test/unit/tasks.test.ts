// Tasks: seeded problems with disjoint splits, rule-based rewards (TinyZero's countdown score),
// pretraining text that tokenizes and scores as correct, and input errors that name the field.
import { describe, expect, it } from 'vitest'
import { CharTokenizer } from '../../src/model/tokenizer'
import { isWellFormed, lastAnswer, splitOf } from '../../src/tasks/answer'
import { addition, additionKey, columns, hastySum, workedThink } from '../../src/tasks/addition'
import { NO_SOLUTION, countdown, countdownFor, countdownKey, countdownScore, evaluateEquation, solveCountdown } from '../../src/tasks/countdown'
import { TASK_IDS, TASKS, getTask } from '../../src/tasks/registry'
import { TaskInputError } from '../../src/tasks/types'
import type { Problem, Task } from '../../src/tasks/types'

const tasks: Task[] = [addition, countdown]

function keyOf(p: Problem): string {
  if (p.task === 'addition') {
    const { a, b } = p.data as { a: number; b: number }
    return additionKey(a, b)
  }
  const { numbers, target } = p.data as { numbers: number[]; target: number }
  return countdownKey(numbers, target)
}

function reward(task: Task, name: string): (completion: string, p: Problem) => number {
  const r = task.rewardFunctions.find((f) => f.name === name)
  if (!r) throw new Error(`no reward ${name}`)
  return (c, p) => r.score(c, p)
}

/** The TaskInputError parseProblem throws for `data`. */
function inputError(task: Task, data: unknown): TaskInputError {
  try {
    task.parseProblem(data)
  } catch (e) {
    if (e instanceof TaskInputError) return e
    throw e
  }
  throw new Error(`no error for ${JSON.stringify(data)}`)
}

describe('registry', () => {
  it('lists the tasks and finds them by id', () => {
    expect(TASK_IDS).toContain('addition')
    expect(TASK_IDS).toContain('countdown')
    expect(getTask('addition')).toBe(addition)
    expect(getTask('countdown')).toBe(countdown)
    for (const id of TASK_IDS) expect(TASKS[id].id).toBe(id)
  })

  it('rejects unknown ids, naming the field and the allowed ids', () => {
    expect(TASK_IDS.join(', ')).toMatch(/^addition, countdown\b/)
    for (const id of ['x', 'constructor', '__proto__']) {
      expect(() => getTask(id)).toThrow(TaskInputError)
      expect(() => getTask(id)).toThrow(`task: unknown task '${id}'; allowed: ${TASK_IDS.join(', ')}`)
    }
  })
})

describe.each(tasks)('$id: problems', (task) => {
  it('are deterministic in (split, seed, index) and depend on the seed', () => {
    for (let i = 0; i < 50; i++) {
      expect(task.problem('train', 7, i)).toEqual(task.problem('train', 7, i))
      expect(task.problem('test', 7, i)).toEqual(task.problem('test', 7, i))
    }
    const a = Array.from({ length: 50 }, (_, i) => task.problem('train', 1, i).prompt)
    const b = Array.from({ length: 50 }, (_, i) => task.problem('train', 2, i).prompt)
    expect(a).not.toEqual(b)
  })

  it('never share a problem between train and test, whatever the seed', () => {
    const train = new Set<string>()
    for (const seed of [1, 2]) {
      for (let i = 0; i < 1000; i++) {
        const p = task.problem('train', seed, i)
        expect(p.split).toBe('train')
        train.add(keyOf(p))
      }
    }
    const test = new Set<string>()
    for (const seed of [1, 3]) {
      for (let i = 0; i < 150; i++) {
        const p = task.problem('test', seed, i)
        expect(p.split).toBe('test')
        expect(splitOf(keyOf(p))).toBe('test')
        test.add(keyOf(p))
      }
    }
    expect(test.size).toBeGreaterThan(250) // varied, not one problem repeated
    for (const k of test) expect(train.has(k)).toBe(false)
  })

  it('never have a prompt longer than maxPromptLength (what a config\'s context is checked against), and some reach it', () => {
    let longest = 0
    for (const seed of [0, 1, 7, 12345]) {
      for (const split of ['train', 'test'] as const) {
        for (let i = 0; i < 2000; i++) longest = Math.max(longest, task.problem(split, seed, i).prompt.length)
      }
    }
    expect(longest).toBeLessThanOrEqual(task.maxPromptLength)
    // tight within a few characters (a countdown prompt with a 3-digit target and four 2-digit numbers is rare, not impossible)
    expect(longest).toBeGreaterThanOrEqual(task.maxPromptLength - 2)
  })

  it('have a short prompt ending in <think>, in the alphabet, whose answer scores as correct', () => {
    const tok = new CharTokenizer(task.alphabet)
    for (const split of ['train', 'test'] as const) {
      for (let i = 0; i < 300; i++) {
        const p = task.problem(split, 11, i)
        expect(p.task).toBe(task.id)
        expect(p.prompt.endsWith('<think>')).toBe(true)
        expect(p.prompt.length).toBeLessThanOrEqual(32)
        tok.encode(p.prompt)
        const completion = `</think><answer>${p.answer}</answer>`
        tok.encode(completion)
        expect(task.isCorrect(completion, p)).toBe(true)
        // the JSON form round-trips through parseProblem to the same problem
        expect(task.parseProblem(JSON.parse(JSON.stringify(p.data)))).toMatchObject({ split: p.split, prompt: p.prompt, data: p.data })
      }
    }
  })
})

describe.each(tasks)('$id: pretraining text', (task) => {
  const docs = Array.from({ length: 3000 }, (_, i) => task.pretrainingText(5, i))

  it('is deterministic in (seed, index)', () => {
    for (let i = 0; i < 50; i++) expect(task.pretrainingText(5, i)).toEqual(docs[i])
    expect(task.pretrainingText(6, 0)).not.toEqual(docs[0])
  })

  it('tokenizes, fits the context, is well formed, and worked documents always end in the correct answer', () => {
    const tok = new CharTokenizer(task.alphabet)
    let hasty = 0; let direct = 0
    for (const { prompt, completion } of docs) {
      tok.encode(prompt + completion)
      expect(prompt.endsWith('<think>')).toBe(true)
      expect(completion.length).toBeLessThanOrEqual(task.maxCompletionLength)
      expect(prompt.length + completion.length).toBeLessThanOrEqual(128)
      const p = task.parseProblem(problemDataOf(task, prompt))
      expect(reward(task, 'format')(completion, p)).toBe(1)
      const worked = !completion.startsWith('</think>')
      if (!worked) direct++
      if (task.id === 'addition' && !worked && !task.isCorrect(completion, p)) {
        // addition's hasty direct answers: every column without its carry
        const { a, b } = p.data as { a: number; b: number }
        expect(completion).toBe(`</think><answer>${hastySum(a, b)}</answer>`)
        hasty++
        continue
      }
      // countdown's searches are right only when a try hits (test/unit/countdown-search.test.ts)
      if (task.id === 'countdown') continue
      expect(task.isCorrect(completion, p)).toBe(true)
      for (const r of task.rewardFunctions) expect(r.score(completion, p)).toBe(1)
    }
    if (task.id === 'addition') {
      // 80% of direct answers are hasty; they are wrong only when a carry is involved (~3/4 of problems)
      expect(hasty / direct).toBeGreaterThan(0.5)
      expect(hasty / direct).toBeLessThan(0.75)
    } else {
      expect(hasty).toBe(0)
      expect(direct).toBeGreaterThan(0)
    }
  })

  it('uses every character of the alphabet, and only those', () => {
    const used = new Set(docs.map((d) => d.prompt + d.completion).join(''))
    expect([...used].sort().join('')).toBe(task.alphabet)
  })

  it('uses train problems only', () => {
    for (const { prompt } of docs.slice(0, 500)) expect(task.parseProblem(problemDataOf(task, prompt)).split).toBe('train')
  })

  it('is partly direct, partly worked out (addition 30%, countdown 70%), some with a "wait"', () => {
    const worked = docs.filter((d) => !d.completion.startsWith('</think>')).length / docs.length
    const wait = docs.filter((d) => d.completion.includes('wait')).length / docs.length
    const share = task.id === 'addition' ? 0.3 : 0.7
    expect(worked).toBeGreaterThan(share - 0.05)
    expect(worked).toBeLessThan(share + 0.05)
    expect(wait).toBeGreaterThan(0.07)
    expect(wait).toBeLessThanOrEqual(worked)
  })
})

describe.each(tasks.filter((t) => t.workedExample))('$id: cold-start worked examples', (task) => {
  const docs = Array.from({ length: 500 }, (_, i) => task.workedExample!(5, i))

  it('are deterministic, worked out (never direct), correct, on train problems, and differ from the pretraining text', () => {
    expect(task.workedExample!(5, 7)).toEqual(docs[7])
    const tok = new CharTokenizer(task.alphabet)
    for (const { prompt, completion } of docs) {
      tok.encode(prompt + completion)
      expect(completion.startsWith('</think>')).toBe(false)
      expect(completion.length).toBeLessThanOrEqual(task.maxCompletionLength)
      const p = task.parseProblem(problemDataOf(task, prompt))
      expect(p.split).toBe('train')
      expect(task.isCorrect(completion, p)).toBe(true)
      expect(reward(task, 'format')(completion, p)).toBe(1)
    }
    // its own stream of problems, not the pretraining documents'
    expect(docs.slice(0, 20).map((d) => d.prompt)).not.toEqual(Array.from({ length: 20 }, (_, i) => task.pretrainingText(5, i).prompt))
  })
})

/** The problem's JSON form read back from a prompt. */
function problemDataOf(task: Task, prompt: string): unknown {
  if (task.id === 'addition') {
    const m = /^(\d+)\+(\d+)=\?<think>$/.exec(prompt)
    if (!m) throw new Error(`bad prompt ${prompt}`)
    return { a: Number(m[1]), b: Number(m[2]) }
  }
  const m = /^\[([\d,]+)\]=(\d+)\?<think>$/.exec(prompt)
  if (!m) throw new Error(`bad prompt ${prompt}`)
  return { numbers: m[1].split(',').map(Number), target: Number(m[2]) }
}

describe('answer extraction and format', () => {
  it('takes the last <answer> as Python re.finditer would', () => {
    expect(lastAnswer('<answer>1</answer> x <answer>2</answer>')).toBe('2')
    expect(lastAnswer('<answer><answer>3</answer>')).toBe('<answer>3')
    expect(lastAnswer('<answer>3')).toBeNull()
    expect(lastAnswer('<answer>1\n2</answer>')).toBeNull()
    expect(lastAnswer('<answer></answer>')).toBe('')
  })

  it('accepts only "…</think><answer>…</answer>" ending there', () => {
    expect(isWellFormed('7+5=12 c1</think><answer>132</answer>')).toBe(true)
    expect(isWellFormed('</think><answer>132</answer>')).toBe(true)
    expect(isWellFormed('x</think> <answer>132</answer>  ')).toBe(true)
    expect(isWellFormed('<answer>132</answer>')).toBe(false) // no </think>
    expect(isWellFormed('x</think>y</think><answer>1</answer>')).toBe(false) // two </think>
    expect(isWellFormed('<think>x</think><answer>1</answer>')).toBe(false) // <think> inside
    expect(isWellFormed('x</think><answer>1</answer>more')).toBe(false) // text after </answer>
    expect(isWellFormed('x</think>y<answer>1</answer>')).toBe(false) // text before <answer>
    expect(isWellFormed('<answer>1</answer></think><answer>1</answer>')).toBe(false) // answer in the thinking
    expect(isWellFormed('x</think><answer>1</answer><answer>2</answer>')).toBe(false)
    expect(isWellFormed('x</think><answer> </answer>')).toBe(false) // empty answer
    expect(isWellFormed('x</think><answer>132')).toBe(false)
    expect(isWellFormed('')).toBe(false)
  })
})

describe('addition', () => {
  const p = addition.parseProblem({ a: 47, b: 85 })
  const accuracy = reward(addition, 'accuracy')
  const format = reward(addition, 'format')

  it('the hasty answer adds every column and forgets every carry', () => {
    expect(hastySum(47, 85)).toBe(22) // 7+5 → 2, 4+8 → 2
    expect(hastySum(12, 34)).toBe(46) // no carry: the right sum
    expect(hastySum(947, 185)).toBe(22) // 0·100 + 2·10 + 2
    expect(hastySum(5, 998)).toBe(993)
  })

  it('has the compact prompt and its reward weights', () => {
    expect(p.prompt).toBe('047+085=?<think>')
    expect(addition.parseProblem({ a: 5, b: 1234 }).prompt).toBe('005+1234=?<think>')
    expect(p.answer).toBe('132')
    expect(p.data).toEqual({ a: 47, b: 85 })
    expect(addition.rewardFunctions.map((r) => [r.name, r.weight])).toEqual([['accuracy', 1], ['format', 0.1]])
    expect(addition.alphabet).toBe(' +/0123456789<=>?acehiknrstw')
  })

  it('scores correct, wrong, unformatted and spaced answers', () => {
    const score = (c: string) => [accuracy(c, p), format(c, p), addition.isCorrect(c, p)]
    expect(score('</think><answer>132</answer>')).toEqual([1, 1, true])
    expect(score('7+5=12 c1 4+8+1=13 c1</think><answer>132</answer>')).toEqual([1, 1, true])
    expect(score('</think><answer>131</answer>')).toEqual([0, 1, false])
    expect(score('</think><answer>132</answer>x')).toEqual([1, 0, true]) // right but unformatted
    expect(score('132')).toEqual([0, 0, false]) // no answer tag
    expect(score('<answer>132</answer>')).toEqual([1, 0, true])
    expect(score('</think><answer> 132 </answer>')).toEqual([1, 1, true])
    expect(score('</think><answer>1 32</answer>')).toEqual([0, 1, false])
    expect(score('</think><answer>+132</answer>')).toEqual([0, 1, false])
    expect(score('</think><answer>132.0</answer>')).toEqual([0, 1, false])
    expect(score('<answer>5</answer></think><answer>132</answer>')).toEqual([1, 0, true]) // the last answer counts
    expect(score('</think><answer>132</answer><answer>7</answer>')).toEqual([0, 0, false])
  })

  it('works sums out column by column with carries', () => {
    expect(columns(47, 85)).toEqual([{ x: 7, y: 5, carryIn: 0, sum: 12 }, { x: 4, y: 8, carryIn: 1, sum: 13 }])
    expect(workedThink(47, 85)).toBe('7+5=12 c1 4+8+1=13 c1')
    expect(workedThink(47, 85, 0, false)).toBe('7+5=11 c1 wait 7+5=12 c1 4+8+1=13 c1')
    expect(workedThink(47, 85, 1, true)).toBe('7+5=12 c1 4+8+1=14 c1 wait 4+8+1=13 c1')
    expect(workedThink(5, 905)).toBe('5+5=10 c1 0+0+1=1 0+9=9')
    expect(workedThink(10, 10, 0, false)).toBe('0+0=1 wait 0+0=0 1+1=2') // never a negative sum
    // the digits read back from any worked form give the sum
    for (let i = 0; i < 500; i++) {
      const { a, b } = addition.problem('train', 3, i).data as { a: number; b: number }
      const cols = columns(a, b)
      const digits = cols.map((c) => c.sum % 10).reverse().join('')
      expect(Number((cols[cols.length - 1].sum >= 10 ? '1' : '') + digits)).toBe(a + b)
    }
  })

  it('draws 2- and 3-digit operands', () => {
    const lengths = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const { a, b } = addition.problem('train', 9, i).data as { a: number; b: number }
      lengths.add(`${String(a).length}${String(b).length}`)
    }
    expect([...lengths].sort()).toEqual(['22', '23', '32', '33'])
  })

  it('keeps a sum and its mirror in the same split', () => {
    for (let i = 0; i < 200; i++) {
      const { a, b } = addition.problem('test', 4, i).data as { a: number; b: number }
      expect(addition.parseProblem({ a: b, b: a }).split).toBe('test')
    }
  })

  it('rejects bad problems, naming the field and the allowed values', () => {
    expect(inputError(addition, { a: 'x', b: 1 }).message).toBe('a: got "x"; allowed: an integer from 0 to 99999')
    expect(inputError(addition, { a: 1, b: -1 }).field).toBe('b')
    expect(inputError(addition, { a: 1, b: 1.5 }).field).toBe('b')
    expect(inputError(addition, { a: 100000, b: 1 }).field).toBe('a')
    expect(inputError(addition, { a: 1 }).message).toBe('b: got nothing; allowed: an integer from 0 to 99999')
    expect(inputError(addition, { a: 1, b: 2, c: 3 }).message).toBe('c: unknown field; allowed: a, b')
    expect(inputError(addition, [1, 2]).field).toBe('problem')
    expect(inputError(addition, null).field).toBe('problem')
    expect(addition.parseProblem({ a: 0, b: 99999 }).answer).toBe('99999')
  })
})

describe('countdown', () => {
  const numbers = [3, 7, 25, 50]
  const target = 79
  const p = countdown.parseProblem({ numbers, target })
  const score = (c: string) => countdownScore(c, numbers, target)
  const ans = (eq: string) => `x</think><answer>${eq}</answer>`

  it('has the compact prompt, a valid reference answer and its reward weights', () => {
    expect(p.prompt).toBe('[3,7,25,50]=79?<think>')
    expect(score(ans(p.answer))).toBe(1)
    expect(countdown.rewardFunctions.map((r) => [r.name, r.weight])).toEqual([['countdown', 1], ['format', 0]])
    expect(countdown.alphabet).toBe(' ()*+,-/0123456789<=>?[]aehiknrstw')
  })

  it("scores as TinyZero's compute_score", () => {
    expect(score(ans('50+25+7-3'))).toBe(1.0)
    expect(score(ans(' (50 + 25) + (7 - 3) '))).toBe(1.0) // stripped, spaces allowed
    expect(score(ans('50+25+7+3'))).toBe(0.1) // wrong result
    expect(score(ans('50+25+25+7-3'))).toBe(0.1) // a number used twice
    expect(score(ans('50+25+7'))).toBe(0.1) // a number missing
    expect(score(ans('50+25+7-3+1-1'))).toBe(0.1) // numbers not given
    expect(score(ans('import os'))).toBe(0.1) // invalid characters
    expect(score(ans('50+25+7-3 import os'))).toBe(0.1) // right numbers, invalid characters
    expect(score(ans('50+25+7-3x'))).toBe(0.1)
    expect(score(ans(''))).toBe(0.1) // an empty answer is still an answer
    expect(score('50+25+7-3')).toBe(0) // no <answer>
    expect(score('x</think><answer>50+25+7-3')).toBe(0) // unclosed
    expect(score('<answer>50+25+7-3</answer>')).toBe(1.0) // TinyZero ignores the rest of the format
    expect(score(ans('1') + ans('50+25+7-3'))).toBe(1.0) // the last answer counts
    expect(score(ans('50+25+7-3') + ans('1'))).toBe(0.1)
    expect(score(`${ans('1')}\n<answer>50+25+7-3</answer>`)).toBe(1.0) // the last line counts
    expect(score(`${ans('50+25+7-3')}\nmore`)).toBe(0) // ... and it has no answer
  })

  it('evaluates division and parentheses', () => {
    expect(countdownScore(ans('(50-2)/6+7'), [50, 2, 6, 7], 15)).toBe(1)
    expect(countdownScore(ans('50-2/6+7'), [50, 2, 6, 7], 15)).toBe(0.1) // precedence matters
    expect(countdownScore(ans('(25-3)*(50/7)'), numbers, 157.142857142857)).toBe(1) // true division, 1e-5
    expect(countdownScore(ans('7/(50-50)'), [7, 50, 50], 1)).toBe(0.1) // division by zero
    expect(countdownScore(ans('((3+7))*(25-(50-45))'), [3, 7, 25, 50, 45], 200)).toBe(1)
    expect(countdownScore(ans('(3+7'), [3, 7], 10)).toBe(0.1)
    expect(countdownScore(ans('3+7)'), [3, 7], 10)).toBe(0.1)
    expect(countdownScore(ans('3()+7'), [3, 7], 10)).toBe(0.1)
    expect(countdownScore(ans('3 7'), [3, 7], 37)).toBe(0.1)
  })

  it('handles signs, powers and literals as Python does (what TinyZero lets through to eval)', () => {
    // unary minus and plus are accepted: Python's eval accepts them, and each number is still used once
    expect(score(ans('-3+50+25+7'))).toBe(1)
    expect(countdownScore(ans('7--3'), [7, 3], 10)).toBe(1)
    expect(countdownScore(ans('+7-(-3)'), [7, 3], 10)).toBe(1)
    // ** and // pass TinyZero's character filter, so they count as Python computes them
    expect(evaluateEquation('2**3**2')).toBe(512)
    expect(evaluateEquation('-2**2')).toBe(-4)
    expect(evaluateEquation('2**-1')).toBe(0.5)
    expect(evaluateEquation('7//2')).toBe(3)
    expect(evaluateEquation('-7//2')).toBe(-4)
    // Python's float // is not floor(a / b): a / b rounds to -42, but the exact quotient is just below, so -43
    expect(evaluateEquation('-3//(25/50/(7))')).toBe(-43)
    expect(countdownScore(ans('-3//(25/50/(7))'), numbers, -43)).toBe(1)
    expect(evaluateEquation('7/ /2')).toBeNull()
    expect(evaluateEquation('2* *3')).toBeNull()
    expect(evaluateEquation('0**-1')).toBeNull()
    expect(evaluateEquation('10**400')).toBeNull() // no number TinyZero could match
    // literals: "07" is a syntax error in Python; decimals are numbers (whose digit runs must match)
    expect(evaluateEquation('07')).toBeNull()
    expect(evaluateEquation('00')).toBe(0)
    expect(evaluateEquation('1.5+.5+2.')).toBe(4)
    expect(countdownScore(ans('07+3'), [7, 3], 10)).toBe(0.1)
    expect(countdownScore(ans('1.5*2'), [1, 5, 2], 3)).toBe(1)
    expect(evaluateEquation('')).toBeNull()
    expect(evaluateEquation('()')).toBeNull()
    expect(evaluateEquation('1..2')).toBeNull()
  })

  it('never runs code', () => {
    for (const eq of ['constructor', '__proto__', 'process.exit(1)', 'this.x=1', 'alert(1)', '[].constructor', 'toString()', '3+7;1']) {
      expect(() => countdownScore(ans(eq), [3, 7], 10)).not.toThrow()
      expect(countdownScore(ans(eq), [3, 7], 10)).toBe(0.1)
      expect(evaluateEquation(eq)).toBeNull()
    }
    expect(countdownScore(ans('(3+7)*1'), [3, 7, 1], 10)).toBe(1)
    // deep nesting is refused, not a stack overflow
    expect(evaluateEquation('('.repeat(5000) + '1' + ')'.repeat(5000))).toBeNull()
    expect(evaluateEquation('-'.repeat(5000) + '1')).toBeNull()
  })

  it('generates solvable problems within range: the answer reaches the target with every number once', () => {
    const sizes = new Set<number>()
    for (const split of ['train', 'test'] as const) {
      for (let i = 0; i < 500; i++) {
        const q = (i % 2 ? countdown : countdownFor({ countdown_numbers: 4 })).problem(split, 21, i)
        const d = q.data as { numbers: number[]; target: number }
        sizes.add(d.numbers.length)
        for (const n of d.numbers) expect(n >= 1 && n <= 99).toBe(true)
        expect(d.target >= 1 && d.target <= 999).toBe(true)
        expect(Number.isInteger(d.target)).toBe(true)
        expect(evaluateEquation(q.answer)).toBe(d.target)
        expect(countdownScore(ans(q.answer), d.numbers, d.target)).toBe(1)
      }
    }
    expect([...sizes].sort()).toEqual([3, 4])
  })

  it('solves given problems for their reference answer', () => {
    const q = countdown.parseProblem({ numbers: [50, 2, 6, 7], target: 15 })
    expect(countdownScore(ans(q.answer), [50, 2, 6, 7], 15)).toBe(1)
    expect(solveCountdown([1, 1], 5)).toBeNull()
    expect(countdown.parseProblem({ numbers: [1, 1], target: 5 }).answer).toBe(NO_SOLUTION)
    expect(solveCountdown([3, 4], -1)).toBe('3-4')
    expect(solveCountdown([2, 3, 4], 6)).not.toBeNull()
  })

  it('rejects bad problems, naming the field and the allowed values', () => {
    expect(inputError(countdown, { numbers: [1], target: 1 }).message).toBe('numbers: got [1]; allowed: 2 to 6 integers from 1 to 1000')
    expect(inputError(countdown, { numbers: [1, 2, 3, 4, 5, 6, 7], target: 1 }).field).toBe('numbers')
    expect(inputError(countdown, { numbers: [0, 2], target: 1 }).field).toBe('numbers')
    expect(inputError(countdown, { numbers: [1001, 2], target: 1 }).field).toBe('numbers')
    expect(inputError(countdown, { numbers: [1.5, 2], target: 1 }).field).toBe('numbers')
    expect(inputError(countdown, { numbers: '1,2', target: 1 }).field).toBe('numbers')
    expect(inputError(countdown, { numbers: [1, 2], target: 'x' }).message).toBe('target: got "x"; allowed: an integer from -1000000 to 1000000')
    expect(inputError(countdown, { numbers: [1, 2], target: 2.5 }).field).toBe('target')
    expect(inputError(countdown, { numbers: [1, 2] }).field).toBe('target')
    expect(inputError(countdown, { numbers: [1, 2], target: 3, extra: 1 }).field).toBe('extra')
    expect(inputError(countdown, 'x').field).toBe('problem')
  })
})
