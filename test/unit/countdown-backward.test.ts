// Countdown's backward (sub-goal) corpus: each sub-goal undoes the last operation on the target
// right, each pair value is computed right, a try hits exactly when its expression reaches the
// target, tries follow the enumeration and never repeat, a search that hits ends in an answer
// countdownScore gives 1, a spent budget gives up wrong, and the budgets come in their shares.
import { describe, expect, it } from 'vitest'
import { CharTokenizer } from '../../src/model/tokenizer'
import {
  BACKWARD_BUDGETS, BACKWARD_MAX_COMPLETION, CHECK_WORD, COUNTDOWN_ALPHABET, COUNTDOWN_CORPUS, MISS_WORD, backwardBudget,
  REACHABLE_BUDGETS, backwardTries, countdownFor, countdownScore, countdownTask, evaluateEquation, reachable, shuffledTries, usesExactly,
} from '../../src/tasks/countdown'

const dataOf = (prompt: string) => {
  const m = /^\[([0-9,]+)\]=([0-9]+)\?<think>$/.exec(prompt)
  if (!m) throw new Error(`not a countdown prompt: ${prompt}`)
  return { numbers: m[1].split(',').map(Number), target: Number(m[2]) }
}

/** "x op y=v": both sides, the left computed. */
const sides = (equation: string) => {
  const [lhs, rhs] = equation.split('=')
  return { lhs, value: evaluateEquation(lhs), written: Number(rhs) }
}

describe('backwardTries', () => {
  const task = countdownTask({ numbers: 3, maxNumber: 9, maxTarget: 100, corpus: 'backward' })
  const problems = Array.from({ length: 2000 }, (_, i) => dataOf(task.problem('train', 3, i).prompt))

  it('computes each sub-goal and pair value right, and hits exactly when the expression reaches the target', () => {
    for (const { numbers, target } of problems) {
      for (const t of backwardTries(numbers, target)) {
        const g = sides(t.subGoal)
        expect(g.value).toBe(g.written)
        expect(g.written).toBe(t.goal)
        // the sub-goal is written from the target and the number set aside
        expect(usesExactly(g.lhs, [target, t.c])).toBe(true)
        const p = sides(t.pair)
        expect(p.value).toBe(p.written)
        expect(usesExactly(p.lhs, numbers.filter((_, k) => k !== t.place))).toBe(true)
        expect(usesExactly(t.full.text, numbers)).toBe(true)
        expect(evaluateEquation(t.full.text) === target).toBe(t.hit)
        expect(t.hit).toBe(p.written === t.goal)
      }
    }
  })

  it('never repeats a sub-goal, and a full enumeration hits every generated problem', () => {
    for (const { numbers, target } of problems) {
      const tries = backwardTries(numbers, target)
      expect(new Set(tries.map((t) => t.subGoal)).size).toBe(tries.length)
      expect(tries.some((t) => t.hit)).toBe(true)
    }
  })

  it('gives equal numbers one sub-goal, not two', () => {
    const tries = backwardTries([3, 3, 4], 10)
    expect(tries.filter((t) => t.subGoal === '10-3=7')).toHaveLength(1)
  })
})

describe('backward search corpus', () => {
  const task = countdownTask({ numbers: 3, maxNumber: 9, maxTarget: 100, corpus: 'backward' })
  const N = 3000
  const docs = Array.from({ length: N }, (_, i) => ({ ...task.pretrainingText(7, i), budget: backwardBudget(7, i) }))

  it('writes the enumeration in order, each try once, within its budget; a hit ends the search, checked', () => {
    let hits = 0
    for (const { prompt, completion, budget } of docs) {
      const { numbers, target } = dataOf(prompt)
      const think = completion.slice(0, completion.indexOf('</think>'))
      const right = countdownScore(completion, numbers, target) === 1
      if (think === '') {
        expect(budget).toBe(0)
        continue
      }
      const segments = think.split(` ${MISS_WORD} `)
      expect(segments.length).toBeLessThanOrEqual(budget)
      const expected = backwardTries(numbers, target)
      segments.forEach((segment, k) => {
        const [tryPart, check] = segment.split(` ${CHECK_WORD} `)
        expect(tryPart).toBe(`${expected[k].subGoal} ${expected[k].pair}`)
        expect(check !== undefined).toBe(expected[k].hit)
        if (check !== undefined) {
          // the last try; its check recomputes the full expression step by step, down to the target
          expect(k).toBe(segments.length - 1)
          const steps = check.split(' ').map(sides)
          for (const s of steps) expect(s.value).toBe(s.written)
          expect(steps[steps.length - 1].written).toBe(target)
        }
      })
      const last = expected[segments.length - 1]
      expect(completion.endsWith(`</think><answer>${last.full.text}</answer>`)).toBe(true)
      // a search that hits scores 1; one that spent its budget (or its room) gives up wrong
      expect(right).toBe(last.hit)
      if (last.hit) hits++
    }
    expect(hits / N).toBeGreaterThan(0.15)
  })

  it('budgets come in their shares; a longer search is more often right, and the shortest rarely', () => {
    const count = new Map<number, number>()
    for (const d of docs) count.set(d.budget, (count.get(d.budget) ?? 0) + 1)
    for (const b of BACKWARD_BUDGETS) expect(Math.abs((count.get(b.tries) ?? 0) / N - b.share)).toBeLessThan(0.03)
    const accuracy = (budget: number) => {
      const of = docs.filter((d) => d.budget === budget)
      return of.filter((d) => countdownScore(d.completion, dataOf(d.prompt).numbers, dataOf(d.prompt).target) === 1).length / of.length
    }
    expect(accuracy(1)).toBeLessThan(0.2)
    expect(accuracy(4)).toBeGreaterThan(accuracy(1) + 0.3)
    // an open budget runs until a hit or out of room (about four tries in BACKWARD_MAX_COMPLETION)
    expect(accuracy(Infinity)).toBeGreaterThan(0.6)
  })

  it('tokenizes with the Countdown alphabet and fits its room and a context of 160', () => {
    const tok = new CharTokenizer(COUNTDOWN_ALPHABET)
    for (const { prompt, completion } of docs) {
      tok.encode(prompt + completion)
      expect(completion.length).toBeLessThanOrEqual(BACKWARD_MAX_COMPLETION)
      expect(prompt.length + completion.length).toBeLessThanOrEqual(160)
    }
  })

  it('is not the default: the configured task writes the forward search', () => {
    expect(COUNTDOWN_CORPUS).toBe('forward')
    const forward = countdownTask({ numbers: 3, maxNumber: 9, maxTarget: 100, corpus: 'forward' })
    const configured = countdownFor({ countdown_max_number: 9, countdown_max_target: 100 })
    for (let i = 0; i < 50; i++) expect(configured.pretrainingText(7, i)).toEqual(forward.pretrainingText(7, i))
  })
})

describe('reachable corpus', () => {
  const task = countdownTask({ numbers: 3, maxNumber: 9, maxTarget: 100, corpus: 'reachable' })
  const docs = Array.from({ length: 3000 }, (_, i) => task.pretrainingText(5, i))

  it('never writes a sub-goal the pair cannot reach, and every reachable hit is still found', () => {
    for (const { numbers, target } of docs.slice(0, 1000).map((d) => dataOf(d.prompt))) {
      const kept = backwardTries(numbers, target).filter((t) => reachable(t, numbers))
      // skipping the unreachable sub-goals loses no hit: a hit's pair reached its sub-goal
      expect(kept.some((t) => t.hit)).toBe(true)
      for (const t of backwardTries(numbers, target)) if (t.hit) expect(reachable(t, numbers)).toBe(true)
    }
    for (const d of docs) {
      const { numbers, target } = dataOf(d.prompt)
      const think = d.completion.slice(0, d.completion.indexOf('</think>'))
      for (const segment of think.split(` ${MISS_WORD} `).filter((s) => s !== '')) {
        const goal = Number(segment.split(' ')[0].split('=').at(-1))
        const t = backwardTries(numbers, target).find((x) => segment.startsWith(`${x.subGoal} `))
        expect(t, segment).toBeDefined()
        expect(reachable(t!, numbers)).toBe(true)
        expect(t!.goal).toBe(goal)
      }
    }
  })

  it('is mostly direct guesses, fits the room, and its documents are right about a third of the time', () => {
    const budgets = docs.map((_, i) => backwardBudget(5, i, 'reachable'))
    const direct = budgets.filter((b) => b === 0).length / budgets.length
    expect(direct).toBeCloseTo(REACHABLE_BUDGETS[0].share, 1)
    for (const d of docs) expect(d.completion.length).toBeLessThanOrEqual(BACKWARD_MAX_COMPLETION)
    const right = docs.filter((d) => countdownScore(d.completion, dataOf(d.prompt).numbers, dataOf(d.prompt).target) === 1).length / docs.length
    expect(right).toBeGreaterThan(0.25)
    expect(right).toBeLessThan(0.4)
  })
})

describe('shuffled corpus', () => {
  const shuffled = countdownTask({ numbers: 3, maxNumber: 9, maxTarget: 100, corpus: 'shuffled' })
  const reachableTask = countdownTask({ numbers: 3, maxNumber: 9, maxTarget: 100, corpus: 'reachable' })
  const docs = Array.from({ length: 2000 }, (_, i) => shuffled.pretrainingText(5, i))
  const firstTry = (d: { completion: string }) => d.completion.slice(0, d.completion.indexOf('</think>')).split(` ${MISS_WORD} `)[0]

  it('writes the reachable corpus’s problems and budgets, each try a reachable sub-goal, none twice', () => {
    for (let i = 0; i < docs.length; i++) {
      const d = docs[i]
      expect(d.prompt).toBe(reachableTask.pretrainingText(5, i).prompt)
      const { numbers, target } = dataOf(d.prompt)
      const think = d.completion.slice(0, d.completion.indexOf('</think>'))
      const segments = think.split(` ${MISS_WORD} `).filter((s) => s !== '')
      const goals = segments.map((s) => s.split(' ')[0])
      expect(new Set(goals).size).toBe(goals.length)
      for (const segment of segments) {
        const t = backwardTries(numbers, target).find((x) => segment.startsWith(`${x.subGoal} ${x.pair}`))
        expect(t, segment).toBeDefined()
        expect(reachable(t!, numbers)).toBe(true)
      }
      // the same budget draw: a direct guess exactly where the reachable corpus has one
      expect(think === '').toBe(firstTry(reachableTask.pretrainingText(5, i)) === '')
    }
  })

  it('takes the sub-goals in each document’s own order: every last operation is often a first try', () => {
    const firstOps = (task: typeof shuffled) => {
      const counts = new Map<string, number>()
      for (let i = 0; i < docs.length; i++) {
        const s = firstTry(task.pretrainingText(5, i))
        if (s === '') continue
        const op = /^\d+([-+*/])/.exec(s)?.[1] ?? `${/^\d+([-+*/])/.exec(s)}`
        counts.set(op, (counts.get(op) ?? 0) + 1)
      }
      return counts
    }
    const share = (counts: Map<string, number>, op: string) => (counts.get(op) ?? 0) / [...counts.values()].reduce((a, b) => a + b, 0)
    const inShuffled = firstOps(shuffled)
    const inEnumeration = firstOps(reachableTask)
    // "t+c" (the sub-goal of PAIR − c) comes last in the enumeration: almost never a first try there
    expect(share(inEnumeration, '+')).toBeLessThan(0.01)
    for (const op of ['-', '+', '*', '/']) expect(share(inShuffled, op), op).toBeGreaterThan(0.05)
  })

  it('is reproducible: the same seed and index give the same order', () => {
    expect(shuffledTries([1, 2, 3, 4, 5, 6, 7], 3, 11)).toEqual(shuffledTries([1, 2, 3, 4, 5, 6, 7], 3, 11))
    expect(shuffledTries([1, 2, 3, 4, 5, 6, 7], 3, 11).sort()).toEqual([1, 2, 3, 4, 5, 6, 7])
    const orders = new Set(Array.from({ length: 50 }, (_, i) => shuffledTries([1, 2, 3, 4, 5], 3, i).join('')))
    expect(orders.size).toBeGreaterThan(20)
  })
})
