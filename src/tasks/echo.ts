// A toy task for tests and a first lesson: repeat the digit after the prompt, then stop.
// A freshly initialised model gets it right by chance (about 1 in 150 exactly), so GRPO
// has signal from step one, with no pretraining: the smallest honest "reward rises" demo.
// Unlike the reasoning tasks it has no <think>/<answer> template.
import type { Problem, Task } from './types'
import { TaskInputError } from './types'

const TRAIN_DIGITS = '01234567'
const TEST_DIGITS = '89'

function problemOf(digit: string, split: 'train' | 'test'): Problem {
  return { task: 'echo', split, prompt: `${digit}>`, data: { digit: Number(digit) }, answer: digit }
}

export const echoTask: Task = {
  id: 'echo',
  title: 'Echo a digit (toy)',
  description: 'Repeat the digit, then stop. A toy task where an untrained model already scores by chance.',
  alphabet: '0123456789>',
  maxCompletionLength: 4,
  maxPromptLength: 2, // a digit and '>'

  problem(split, seed, index) {
    const digits = split === 'train' ? TRAIN_DIGITS : TEST_DIGITS
    // a plain counter-based pick: index and seed decide the digit
    const h = Math.imul((index + 1) ^ Math.imul(seed, 0x9e3779b1), 0x85ebca6b) >>> 0
    return problemOf(digits[(h >>> 7) % digits.length], split)
  },

  parseProblem(data) {
    const d = (data as { digit?: unknown } | null)?.digit
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 9) {
      throw new TaskInputError('digit', `got ${JSON.stringify(d)}; allowed: an integer from 0 to 9`)
    }
    const digit = String(d)
    return problemOf(digit, TEST_DIGITS.includes(digit) ? 'test' : 'train')
  },

  isCorrect: (completion, problem) => completion === problem.answer,

  rewardFunctions: [
    { name: 'accuracy', weight: 1, description: '1 when the completion is exactly the digit', score: (c, p) => (c === p.answer ? 1 : 0) },
    { name: 'first_char', weight: 0.5, description: '1 when the completion starts with the digit', score: (c, p) => (c.startsWith(p.answer) ? 1 : 0) },
  ],

  pretrainingText(seed, index) {
    const p = this.problem('train', seed, index)
    return { prompt: p.prompt, completion: p.answer }
  },
}
