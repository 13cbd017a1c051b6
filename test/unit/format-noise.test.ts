// Format noise (issue 15 point 4): a pretraining corpus whose tags are often missing or out of
// order, for a base whose format GRPO must learn first. Each break fails the format reward; the
// noise is deterministic per document and hits about the share asked for.
import { describe, expect, it } from 'vitest'
import { DEFAULT_PRETRAIN, pretrainBatch } from '../../src/lab/pretrain'
import { CharTokenizer } from '../../src/model/tokenizer'
import { FORMAT_BREAKS, breakFormat, isWellFormed, withFormatNoise } from '../../src/tasks/answer'
import { getTask } from '../../src/tasks/registry'

describe('format noise', () => {
  const good = '12+34=46</think><answer>46</answer>'

  it('breaks the format each way, and the format reward sees every break', () => {
    expect(isWellFormed(good)).toBe(true)
    const broken = FORMAT_BREAKS.map((_, i) => breakFormat(good, i))
    expect(new Set(broken).size).toBe(FORMAT_BREAKS.length)
    for (const b of broken) expect(isWellFormed(b), b).toBe(false)
    expect(breakFormat(good, FORMAT_BREAKS.indexOf('answer inside think'))).toBe('12+34=46<answer>46</answer></think>')
    expect(breakFormat('not in the format', 0)).toBe('not in the format')
  })

  it('hits about the share asked for, the same documents for the same seed, none at 0', () => {
    const task = getTask('addition')
    const docs = Array.from({ length: 2000 }, (_, i) => task.pretrainingText(1, i))
    const noisy = docs.map((d, i) => withFormatNoise(d, 1, i, 0.5))
    const share = noisy.filter((d) => !isWellFormed(d.completion)).length / docs.length
    expect(share).toBeGreaterThan(0.45)
    expect(share).toBeLessThan(0.55)
    expect(docs.map((d, i) => withFormatNoise(d, 1, i, 0.5))).toEqual(noisy)
    expect(docs.map((d, i) => withFormatNoise(d, 1, i, 0))).toEqual(docs)
    // the prompt is never touched
    expect(noisy.map((d) => d.prompt)).toEqual(docs.map((d) => d.prompt))
  })

  it('reaches the pretraining batches when formatNoise is set', () => {
    const task = getTask('addition')
    const tok = new CharTokenizer(task.alphabet)
    const clean = pretrainBatch(task, tok, { ...DEFAULT_PRETRAIN, blockSize: 96 }, 3)
    const noisy = pretrainBatch(task, tok, { ...DEFAULT_PRETRAIN, blockSize: 96, formatNoise: 1 }, 3)
    expect(Array.from(noisy.targets)).not.toEqual(Array.from(clean.targets))
  })
})
