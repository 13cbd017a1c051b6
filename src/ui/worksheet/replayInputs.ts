// The worksheet's log-probs for a group of a replay (src/lab/replay.ts): recorded with the run, so
// the worksheet works without a model; a group the replay did not record gets −1 per token, said so.
import type { TraceRecord } from '../../rl/trainer'
import { recordedLogprobs } from '../../store/replayStore'

export function replayWorksheetLogp(step: number, group: number, g: TraceRecord['groups'][number] | undefined): { logp: number[][]; note: string } | null {
  if (!g) return null
  const logp = recordedLogprobs(step, group)
  if (logp) {
    return { logp, note: `log-probs of each completion token under the policy after step ${step}, recorded with this replay (as the live worksheet ` +
      'reads them from the model); with μ = 1 the old policy is the same model, so ρ = 1.' }
  }
  return {
    logp: g.completions.map((x) => Array.from({ length: Math.max(1, x.length) }, () => -1)),
    note: `this replay recorded the worksheet’s log-probs for its first groups only, so every token’s log-prob of group ${group + 1} is shown as −1; ` +
      'the advantages, the loss and its gradient do not depend on that value at μ = 1.',
  }
}
