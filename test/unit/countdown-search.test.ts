// Countdown's difficulty options (the run config's countdown_* keys) and its search corpus:
// problems respect the options, the split rule holds, every try's written value is right except
// slips, a slip is always caught by its check, a search that hits ends in a right answer, and the
// budgets come in their shares. countdownReasoning reads the format back.
import { describe, expect, it } from 'vitest'
import { resolvePartial, resolveRunConfig, RunConfigError } from '../../src/rl/config'
import { encodeLink, parseLink } from '../../src/lab/link'
import { splitOf } from '../../src/tasks/answer'
import {
  CHECK_WORD, COUNTDOWN_BUDGETS, MISS_WORD, countdown, countdownBudget, countdownFor, countdownKey, countdownReasoning,
  countdownScore, countdownTask, evaluateEquation,
} from '../../src/tasks/countdown'
import { getTask, taskFor } from '../../src/tasks/registry'

const dataOf = (prompt: string) => {
  const m = /^\[([0-9,]+)\]=([0-9]+)\?<think>$/.exec(prompt)
  if (!m) throw new Error(`not a countdown prompt: ${prompt}`)
  return { numbers: m[1].split(',').map(Number), target: Number(m[2]) }
}

describe('countdown difficulty options', () => {
  it('are run config keys with defaults, so configs and links without them keep working', () => {
    const c = resolveRunConfig({ task: 'countdown', base_model: 'countdown' })
    expect([c.countdown_numbers, c.countdown_max_number, c.countdown_max_target]).toEqual([3, 99, 999])
    expect(taskFor(c)).toBe(countdown)
    expect(getTask('countdown')).toBe(countdown)
    expect(parseLink('#v=1&task=countdown&base_model=countdown').problems).toEqual([])
  })

  it('travel in share links', () => {
    const c = resolveRunConfig({ task: 'countdown', base_model: 'countdown', countdown_max_number: 9, countdown_max_target: 100 })
    const back = parseLink(encodeLink(c))
    expect(back.problems).toEqual([])
    expect(back.values).toMatchObject({ countdown_max_number: 9, countdown_max_target: 100 })
  })

  it('refuse bad values with a message naming the key and what is allowed', () => {
    const msg = (partial: Record<string, unknown>) => {
      try { resolveRunConfig(partial) } catch (e) { return (e as RunConfigError).message }
      return 'accepted'
    }
    expect(msg({ countdown_numbers: 5 })).toBe('countdown_numbers: got 5; allowed: an integer from 3 to 4')
    expect(msg({ countdown_max_number: 1 })).toBe('countdown_max_number: got 1; allowed: an integer from 5 to 99')
    expect(msg({ countdown_max_target: 1000 })).toBe('countdown_max_target: got 1000; allowed: an integer from 10 to 999')
    expect(() => countdownTask({ numbers: 2, maxNumber: 9, maxTarget: 100 })).toThrow('numbers: got 2; allowed: 3 or 4')
  })

  it('a prompt too long for the context is refused on the option that made it so', () => {
    // 4 numbers up to 99 and targets up to 999 make a 25-character prompt: 25 + 136 > 160, the shipped base's
    // context (3 numbers: 22 + 136 fits)
    const base = resolveRunConfig({ task: 'countdown', base_model: 'countdown', max_completion_length: 136 })
    const r = resolvePartial({ countdown_numbers: 4 }, base)
    expect(r.problems.map((p) => p.key)).toEqual(['countdown_numbers'])
    expect(r.problems[0].message).toMatch(/^countdown_numbers: prompts of task countdown take up to 25 characters.*allowed: 3$/)
  })

  it.each([
    [3, 9, 100], [4, 20, 200], [3, 5, 10], [4, 99, 999],
  ])('problems of %i numbers up to %i with targets up to %i respect them; the split is disjoint', (n, maxNumber, maxTarget) => {
    const task = countdownFor({ countdown_numbers: n, countdown_max_number: maxNumber, countdown_max_target: maxTarget })
    expect(task.maxPromptLength).toBe(`[${Array(n).fill(maxNumber)}]=${maxTarget}?<think>`.length)
    const keys = { train: new Set<string>(), test: new Set<string>() }
    for (const split of ['train', 'test'] as const) {
      for (let i = 0; i < 300; i++) {
        const p = task.problem(split, 3, i)
        const { numbers, target } = p.data as { numbers: number[]; target: number }
        expect(numbers.length).toBe(n)
        for (const x of numbers) expect(x >= 1 && x <= maxNumber).toBe(true)
        expect(target >= 1 && target <= maxTarget).toBe(true)
        expect(p.prompt.length).toBeLessThanOrEqual(task.maxPromptLength)
        expect(countdownScore(`</think><answer>${p.answer}</answer>`, numbers, target)).toBe(1)
        expect(splitOf(countdownKey(numbers, target))).toBe(split)
        keys[split].add(countdownKey(numbers, target))
      }
    }
    for (const k of keys.test) expect(keys.train.has(k)).toBe(false)
  })
})

describe('countdown search corpus', () => {
  // the forward style (COUNTDOWN_CORPUS may select the backward one; countdown-backward.test.ts)
  const task = countdownTask({ numbers: 3, maxNumber: 9, maxTarget: 100, corpus: 'forward' })
  const N = 3000
  const docs = Array.from({ length: N }, (_, i) => ({ ...task.pretrainingText(7, i), budget: countdownBudget(7, i) }))

  it('every try is over all the numbers and its written value is right, except slips; a slip is always caught by its check', () => {
    let slips = 0
    for (const { prompt, completion } of docs) {
      const { numbers, target } = dataOf(prompt)
      const think = completion.slice(0, completion.indexOf('</think>'))
      if (think === '') continue
      for (const segment of think.split(` ${MISS_WORD} `)) {
        const [tryPart, check] = segment.split(` ${CHECK_WORD} `)
        // "EXPR=…=VALUE": every step but the last has the expression's value; the last is written
        const chain = tryPart.split('=')
        const [expr, written] = [chain[0], chain[chain.length - 1]]
        expect(countdownScore(`<answer>${expr}</answer>`, numbers, evaluateEquation(expr)!)).toBe(1) // every number once
        const value = evaluateEquation(expr)!
        for (const step of chain.slice(0, -1)) expect(evaluateEquation(step)).toBe(value)
        if (Number(written) !== value) {
          // a slip: the target written in place of the value, and a check follows that finds the true value
          slips++
          expect(Number(written)).toBe(target)
          expect(check).toBeDefined()
        }
        if (check !== undefined) {
          // each step is an operation on values, computed right; the last is the try's true value
          const steps = check.split(' ')
          for (const step of steps) {
            const [lhs, rhs] = step.split('=')
            expect(evaluateEquation(lhs)).toBe(Number(rhs))
          }
          expect(Number(steps[steps.length - 1].split('=')[1])).toBe(value)
        }
      }
    }
    expect(slips).toBeGreaterThan(20)
  })

  it('a search that hits ends in the answer it checked, right by countdownScore; a spent budget gives up wrong', () => {
    let hits = 0
    for (const { prompt, completion, budget } of docs) {
      const { numbers, target } = dataOf(prompt)
      const r = countdownReasoning(completion)
      const right = countdownScore(completion, numbers, target) === 1
      expect(r.tries).toBeLessThanOrEqual(budget)
      if (r.verified) {
        hits++
        expect(right).toBe(true)
      } else if (r.tries > 0) {
        // no hit: the answer is the last try, wrong
        expect(right).toBe(false)
      }
    }
    expect(hits / N).toBeGreaterThan(0.15)
  })

  it('budgets come in their shares, and more tries are more often right', () => {
    const count = new Map<number, number>()
    for (const d of docs) count.set(d.budget, (count.get(d.budget) ?? 0) + 1)
    for (const b of COUNTDOWN_BUDGETS) expect(Math.abs((count.get(b.tries) ?? 0) / N - b.share)).toBeLessThan(0.03)
    const accuracy = (budget: number) => {
      const of = docs.filter((d) => d.budget === budget)
      return of.filter((d) => countdownScore(d.completion, dataOf(d.prompt).numbers, dataOf(d.prompt).target) === 1).length / of.length
    }
    expect(accuracy(0)).toBeLessThan(0.2) // a direct guess is right only by chance
    expect(accuracy(1)).toBeGreaterThan(accuracy(0))
    expect(accuracy(4)).toBeGreaterThan(accuracy(1))
  })

  it('fits the default completion length and the prompt+completion context of 128', () => {
    for (const { prompt, completion } of docs) {
      expect(completion.length).toBeLessThanOrEqual(task.maxCompletionLength)
      expect(prompt.length + completion.length).toBeLessThanOrEqual(128)
    }
  })
})

describe('countdownReasoning', () => {
  it('counts tries, checks and waits, and says whether the answer was checked', () => {
    expect(countdownReasoning('7+5*3=22 wait 7*3+5=26 test 7*3=21 21+5=26</think><answer>7*3+5</answer>'))
      .toEqual({ tries: 2, checks: 1, waits: 1, verified: true })
    // tries rewritten step by step, as the corpus writes them
    expect(countdownReasoning('7+5*3=7+15=22 wait 7*3+5=21+5=26 test 7*3=21 21+5=26</think><answer>7*3+5</answer>'))
      .toEqual({ tries: 2, checks: 1, waits: 1, verified: true })
    // a slip caught by the check, then a give-up answer: not verified
    expect(countdownReasoning('7+5*3=26 test 5*3=15 15+7=22 wait 7*5+3=38</think><answer>7*5+3</answer>'))
      .toEqual({ tries: 2, checks: 1, waits: 1, verified: false })
    // a slip whose check finds the true value, answered anyway: not verified
    expect(countdownReasoning('7+5*3=26 test 5*3=15 15+7=22</think><answer>7+5*3</answer>').verified).toBe(false)
    // a direct answer, and an answer other than the checked try
    expect(countdownReasoning('</think><answer>7*3+5</answer>')).toEqual({ tries: 0, checks: 0, waits: 0, verified: false })
  })

  it('reads a backward completion: a sub-goal and its pair are one try; the check confirms the answer', () => {
    expect(countdownReasoning('26+7=33 5*3=15 wait 26-5=21 7*3=21 test 7*3=21 21+5=26</think><answer>7*3+5</answer>'))
      .toEqual({ tries: 2, checks: 1, waits: 1, verified: true })
    // a check that does not come to the answer's value, and one that is cut off, do not verify
    expect(countdownReasoning('26-5=21 7*3=21 test 7*3=21 21+5=27</think><answer>7*3+5</answer>').verified).toBe(false)
    expect(countdownReasoning('26-5=21 7*3=21 test</think><answer>7*3+5</answer>').verified).toBe(false)
    expect(countdownReasoning('26-5=21 7*3=21</think><answer>7*3+5</answer>')).toEqual({ tries: 1, checks: 0, waits: 0, verified: false })
    expect(countdownReasoning('7*3+5=26 test 7*3=21 21+5=26</think><answer>7+3*5</answer>').verified).toBe(false)
    // a check with "wait" after it, and no answer at all
    expect(countdownReasoning('7*3+5=26 test 7*3=21 21+5=26 wait</think><answer>7*3+5</answer>').verified).toBe(false)
    expect(countdownReasoning('7*3+5=26 test 7*3=21 21+5=26').verified).toBe(false)
    expect(countdown.reasoning).toBe(countdownReasoning)
  })
})
