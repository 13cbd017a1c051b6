// The files of a TRL project (src/export/trl.ts says what it is and how the lab's keys map): the
// checks that the run and model can go, the data from the task's generator, and the .zip the page offers.
import { strToU8, zipSync } from 'fflate'
import type { Checkpoint } from '../model/checkpoint'
import { contextOverflow, missingChars, type RunConfig } from '../rl/config'
import { rewardWeights } from '../rl/rewards'
import { taskFor } from '../tasks/registry'
import type { Problem, Task } from '../tasks/types'
import { hfFolderFiles } from './hf'
import { trlNotes } from './trl'
import { PYTHON_REWARDS } from './trlRewards'
import { projectReadme, trainPy } from './trlTrain'

export class TrlExportError extends Error {
  constructor(readonly field: string, message: string) { super(`${field}: ${message}`) }
}

/** Why this run and model cannot be exported to TRL, or nothing. */
function checkExportable(c: RunConfig, ck: Checkpoint, task: Task): void {
  if (!Object.hasOwn(PYTHON_REWARDS, task.id)) {
    throw new TrlExportError('task', `task '${task.id}' has no Python reward functions for TRL yet; allowed: ${Object.keys(PYTHON_REWARDS).join(', ')}`)
  }
  if (c.temperature === 0) {
    throw new TrlExportError('temperature', 'got 0 (greedy rollouts): GRPOTrainer samples and divides the training logits by the temperature; allowed for TRL: a number above 0 and up to 3')
  }
  const modelTask = ck.metadata.task
  if (modelTask && modelTask !== task.id) throw new TrlExportError('model', `a model for task '${modelTask}', but the run's task is '${task.id}'; allowed: a model of task ${task.id}`)
  const missing = missingChars(task.alphabet, ck.tokenizer.chars)
  if (missing) throw new TrlExportError('model', `its tokenizer has no tokens for ${JSON.stringify(missing)}, which task '${task.id}' writes`)
  const overflow = contextOverflow(task, c.max_completion_length, ck.config.blockSize, "the model's n_positions (its block_size)")
  if (overflow) throw new TrlExportError('max_completion_length', `${overflow}; allowed: at most ${ck.config.blockSize - task.maxPromptLength}`)
}

const rowOf = (p: Problem) => ({ prompt: p.prompt, answer: p.answer, ...p.data })
const jsonl = (rows: unknown[]) => strToU8(rows.map((r) => JSON.stringify(r)).join('\n') + '\n')

/** The pins the project's requirements.txt names (python/requirements.txt has the same; a test checks). */
export const TRL_REQUIREMENTS = ['torch==2.13.0', 'transformers==5.18.0', 'trl==1.13.0', 'accelerate==1.15.0', 'datasets==5.0.1'] as const

function rewardsPy(task: Task): string {
  const py = PYTHON_REWARDS[task.id]
  const weights = rewardWeights(task, [])
  const lines = task.rewardFunctions.map((f, i) => `  ${f.name} (default weight ${weights[i]}): ${f.description}`)
  return `"""Reward functions of grpo-lab's task "${task.id}" for TRL's GRPOTrainer, scoring exactly as the lab's.

Each takes the completions (text after the prompt, without the end token) and the dataset's
columns as keyword lists, as GRPOTrainer passes them, and returns one float per completion:
${lines.join('\n')}
is_correct(completion, row) is the lab's check of a right answer (held-out pass@1).
"""
${py.source}
`
}

export interface TrlProject {
  files: Map<string, Uint8Array>
  /** the lab's keys that are not the GRPOConfig field of the same name, with what they became */
  notes: string[]
}

/** The project's files by path, for a run configuration and the model it starts from. */
export function trlProjectFiles(c: RunConfig, ck: Checkpoint, modelFrom: string): TrlProject {
  const task = taskFor(c)
  checkExportable(c, ck, task)
  const files = new Map<string, Uint8Array>()
  for (const [path, bytes] of hfFolderFiles(ck, { runConfig: { ...c }, baseModel: c.base_model || undefined })) files.set(`model/${path}`, bytes)
  const promptsUsed = c.max_steps * c.prompts_per_step
  files.set('data/train.jsonl', jsonl(Array.from({ length: promptsUsed }, (_, i) => rowOf(task.problem('train', c.seed, i)))))
  files.set('data/eval.jsonl', jsonl(Array.from({ length: c.eval_problems }, (_, i) => rowOf(task.problem('test', c.seed, i)))))
  const notes = trlNotes(c)
  files.set('rewards.py', strToU8(rewardsPy(task)))
  files.set('train.py', strToU8(trainPy(c, task, notes)))
  files.set('README.md', strToU8(projectReadme(c, task, notes, modelFrom)))
  files.set('requirements.txt', strToU8(TRL_REQUIREMENTS.join('\n') + '\n'))
  files.set('lab_config.json', strToU8(JSON.stringify(c, null, 2) + '\n'))
  return { files, notes }
}

/** The project as one .zip (the page's download), files under `folder/`. */
export function trlProjectZip(c: RunConfig, ck: Checkpoint, folder: string, modelFrom: string): { bytes: Uint8Array; notes: string[] } {
  const { files, notes } = trlProjectFiles(c, ck, modelFrom)
  const entries: Record<string, Uint8Array> = {}
  for (const [path, bytes] of files) entries[`${folder}/${path}`] = bytes
  return { bytes: zipSync(entries, { level: 6 }), notes }
}
