// The rollout file of `grpo-lab update`: a rollout sampled elsewhere (or by the lab), in the
// model's token ids, for the trainer's update phase. Every field is checked against the run's
// config and the model, and a bad one gets a message naming it and what is allowed.
//   {"prompt_ids": number[][], "completion_ids": number[][], "truncated": boolean[],
//    "rewards": number[], "rewards_per_func"?: number[][]}
// N = prompts_per_step × num_generations rows, group-major. A completion that terminated ends
// with the end token (and has it nowhere else); a truncated one does not (TRL's is_truncated).
import type { RunConfig } from '../rl/config'
import type { UpdateRollout } from '../rl/trainer'

export class UpdateInputError extends Error {
  constructor(readonly field: string, message: string) { super(`${field}: ${message}`) }
}

export interface UpdateInputContext {
  config: RunConfig
  vocabSize: number
  blockSize: number
  eosId: number
  /** the reward functions rewards_per_func has a column for, in order */
  rewardFunctions: readonly string[]
}

const KEYS = ['prompt_ids', 'completion_ids', 'truncated', 'rewards', 'rewards_per_func'] as const

export function parseUpdateRollout(value: unknown, ctx: UpdateInputContext): UpdateRollout {
  const { config: c, vocabSize, blockSize, eosId } = ctx
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UpdateInputError('rollout', `expected a JSON object with ${KEYS.join(', ')}`)
  }
  const o = value as Record<string, unknown>
  for (const k of Object.keys(o)) {
    if (!(KEYS as readonly string[]).includes(k)) throw new UpdateInputError(k.slice(0, 40), `unknown field; allowed: ${KEYS.join(', ')}`)
  }
  const N = c.prompts_per_step * c.num_generations
  const rows = (key: string): unknown[] => {
    const v = o[key]
    if (!Array.isArray(v) || v.length !== N) {
      throw new UpdateInputError(key, `expected an array of N = prompts_per_step × num_generations = ${c.prompts_per_step} × ${c.num_generations} = ${N} entries` +
        (Array.isArray(v) ? `, got ${v.length}` : ''))
    }
    return v
  }
  const ids = (key: string, min: number, max: number): number[][] => rows(key).map((row, i) => {
    const field = `${key}[${i}]`
    if (!Array.isArray(row) || row.length < min || row.length > max) {
      throw new UpdateInputError(field, `expected an array of ${min} to ${max} token ids` + (Array.isArray(row) ? `, got ${row.length}` : ''))
    }
    row.forEach((id, j) => {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new UpdateInputError(`${field}[${j}]`, `got ${JSON.stringify(id)?.slice(0, 40)}; allowed: a token id from 0 to ${vocabSize - 1}`)
      }
    })
    return row as number[]
  })
  const numbers = (key: string, v: unknown, n: number, what: string): number[] => {
    if (!Array.isArray(v) || v.length !== n) throw new UpdateInputError(key, `expected ${n} ${what}` + (Array.isArray(v) ? `, got ${v.length}` : ''))
    v.forEach((x, j) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new UpdateInputError(`${key}[${j}]`, `got ${JSON.stringify(x)?.slice(0, 40)}; allowed: a finite number`)
    })
    return v as number[]
  }

  const promptIds = ids('prompt_ids', 1, blockSize - 1)
  const completionIds = ids('completion_ids', 1, c.max_completion_length)
  promptIds.forEach((p, i) => {
    const n = p.length + completionIds[i].length
    if (n > blockSize) {
      throw new UpdateInputError(`completion_ids[${i}]`, `prompt and completion take ${n} positions; allowed: at most the model's context of ${blockSize}`)
    }
  })
  const truncated = rows('truncated').map((t, i) => {
    if (typeof t !== 'boolean') throw new UpdateInputError(`truncated[${i}]`, `got ${JSON.stringify(t)?.slice(0, 40)}; allowed: true or false`)
    return t
  })
  completionIds.forEach((ids, i) => {
    const at = ids.indexOf(eosId)
    if (at >= 0 && at < ids.length - 1) {
      throw new UpdateInputError(`completion_ids[${i}]`, `the end token (id ${eosId}) at position ${at} of ${ids.length}; allowed: only as the last token (a completion stops there)`)
    }
    const ended = at === ids.length - 1
    if (ended === truncated[i]) {
      throw new UpdateInputError(`truncated[${i}]`, ended
        ? `the completion ends with the end token (id ${eosId}), so it terminated; allowed: false`
        : `the completion does not end with the end token (id ${eosId}), so it was cut; allowed: true`)
    }
  })
  const rewards = numbers('rewards', o.rewards, N, 'finite numbers (each completion\'s weighted reward)')
  const out: UpdateRollout = { promptIds, completionIds, truncated, rewards }
  const K = ctx.rewardFunctions.length
  if (o.rewards_per_func !== undefined) {
    out.rewardsPerFunc = rows('rewards_per_func').map((row, i) =>
      numbers(`rewards_per_func[${i}]`, row, K, `scores, one per reward function (${ctx.rewardFunctions.join(', ')})`))
  } else if (c.multi_objective_aggregation === 'normalize_then_sum') {
    throw new UpdateInputError('rewards_per_func', `required with multi_objective_aggregation = normalize_then_sum; allowed: ${N} rows of ${K} scores (${ctx.rewardFunctions.join(', ')})`)
  }
  return out
}
