// The reasoning metrics: the reflection-word reading (tries, checks, waits, verified), a task's
// own reading when it has one, the batch rates and accuracy among checked and unchecked answers,
// and that the trainer and the evaluation log them from their own completions.
import { describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { resolveRunConfig } from '../../src/rl/config'
import { evaluateModel } from '../../src/rl/evaluate'
import { meanOrNaN, reasoningMetrics, reasoningOf, reflectionReasoning } from '../../src/rl/reasoning'
import { GRPOTrainer } from '../../src/rl/trainer'
import { getTask } from '../../src/tasks/registry'
import type { Task } from '../../src/tasks/types'

const SEARCH = '[3,7,5]=26?<think>7+5*3=22 try again 7*3+5=26 check 7*3=21 21+5=26 ok</think><answer>7*3+5</answer>'

// echo with a reading of its own: as many tries as characters, a check for each '5', verified when it starts with '1'
const echoWithReading: Task = {
  ...getTask('echo'),
  reasoning: (t) => ({ tries: t.length, checks: [...t].filter((ch) => ch === '5').length, waits: t.includes('9') ? 1 : 0, verified: t.startsWith('1') }),
}

describe('the reflection-word reading (tasks without their own)', () => {
  it('counts a worked search: a miss, a try again, a check of the answer given', () => {
    expect(reflectionReasoning(SEARCH)).toEqual({ tries: 2, checks: 1, waits: 0, verified: true })
  })

  it('reads oat-zero\'s words as tries (rethink, re-evaluate, try again, re-examine) or checks (recheck, check again, verify)', () => {
    expect(reflectionReasoning('Let me rethink. Re-evaluate: 4. Reevaluating. Try again: 5. Re-examine it. Reassess.').tries).toBe(7)
    expect(reflectionReasoning('recheck: 4. check again: 4. Verify: yes. double-check ok').checks).toBe(4)
    expect(reflectionReasoning('7+5=12 wait 7+5=12, Wait.').waits).toBe(2)
  })

  it('takes whole words only and a plain answer as one unverified try', () => {
    expect(reflectionReasoning('checkpoint waiting retry verifyx 12+3=15')).toEqual({ tries: 1, checks: 0, waits: 0, verified: false })
    expect(reflectionReasoning('')).toEqual({ tries: 1, checks: 0, waits: 0, verified: false })
  })

  it('calls an answer verified only when a check comes after the last try and no "wait" after the check', () => {
    expect(reflectionReasoning('check 3=3 ok, try again 4').verified).toBe(false)
    expect(reflectionReasoning('try again 4, verify 4').verified).toBe(true)
    expect(reflectionReasoning('try again 4, verify 4 wait').verified).toBe(false)
    expect(reflectionReasoning('wait 4, check 4').verified).toBe(true)
  })

  it('gives way to the task\'s own reading when it has one', () => {
    expect(reasoningOf(echoWithReading, '155')).toEqual({ tries: 3, checks: 2, waits: 0, verified: true })
    expect(reasoningOf(getTask('echo'), 'check')).toEqual(reflectionReasoning('check'))
  })
})

describe('the batch metrics', () => {
  const task = getTask('addition')

  it('are the shares of completions that try, check and wait, and accuracy among verified and unverified', () => {
    const texts = [SEARCH, '7*3+5 try again 26', 'wait 12', 'plain']
    const m = reasoningMetrics(task, texts, [true, false, true, false])
    expect(m).toEqual({
      'reflection/try_rate': 0.5, 'reflection/check_rate': 0.25, 'reflection/wait_rate': 0.25,
      'reasoning/tries_mean': (2 + 2 + 1 + 1) / 4, verified_rate: 0.25,
      'accuracy/verified': 1, 'accuracy/unverified': 1 / 3,
    })
  })

  it('count a try when the task\'s reading has ≥ 2 tries even without a retry word', () => {
    expect(reasoningMetrics(echoWithReading, ['12', '3'], [true, true])['reflection/try_rate']).toBe(0.5)
  })

  it('leave accuracy of an empty kind NaN (a gap, not 0), and take a prefix for evaluation', () => {
    const m = reasoningMetrics(task, ['plain', 'also plain'], [true, false], 'eval/')
    expect(m['eval/accuracy/verified']).toBeNaN()
    expect(m['eval/accuracy/unverified']).toBe(0.5)
    expect(m['eval/verified_rate']).toBe(0)
    expect(meanOrNaN([])).toBeNaN()
  })

  it('refuse texts and flags of different lengths, naming both', () => {
    expect(() => reasoningMetrics(task, ['a', 'b'], [true])).toThrow(/2 texts and 1 correct flags/)
  })
})

describe('the trainer and the evaluation log them', () => {
  const config = resolveRunConfig({ task: 'echo', seed: 3, n_layer: 1, n_head: 2, n_embd: 16, block_size: 16, num_generations: 4,
    prompts_per_step: 4, max_completion_length: 4, learning_rate: 1e-2 })

  it('a GRPO step: the metrics of its own rollout, read with the task\'s hook', async () => {
    const trainer = GRPOTrainer.create(new CpuBackend('f64'), config, echoWithReading)
    const { metrics, trace } = await trainer.trainStep()
    const done = trace.groups.flatMap((g) => g.completions)
    expect(metrics).toMatchObject(reasoningMetrics(echoWithReading, done.map((c) => c.text), done.map((c) => c.correct)))
    expect(metrics['reasoning/tries_mean']).toBe(done.reduce((s, c) => s + c.text.length, 0) / done.length)
    // length_correct / length_incorrect: NaN when the batch has none of that kind
    const right = done.filter((c) => c.correct)
    if (right.length === 0) expect(metrics.length_correct).toBeNaN()
    else expect(metrics.length_correct).toBe(right.reduce((s, c) => s + c.length, 0) / right.length)
    expect(metrics.length_incorrect).toBe(meanOrNaN(done.filter((c) => !c.correct).map((c) => c.length)))
  })

  it('an evaluation: the metrics of its greedy completions, prefixed eval/', async () => {
    const trainer = GRPOTrainer.create(new CpuBackend('f64'), config, echoWithReading)
    let rows: { text: string; correct: boolean }[] = []
    const m = await evaluateModel(trainer.model, trainer.tokenizer, echoWithReading, {
      n: 8, k: 0, temperature: 1, maxNewTokens: 4, seed: 1,
      onGreedy: (r) => { rows = r.map((x) => ({ text: x.text, correct: echoWithReading.isCorrect(x.text, x.problem) })) },
    })
    expect(rows).toHaveLength(8)
    expect(m).toMatchObject(reasoningMetrics(echoWithReading, rows.map((r) => r.text), rows.map((r) => r.correct), 'eval/'))
  })
})
