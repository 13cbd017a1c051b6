// Named starting points for a run. A preset is a partial RunConfig laid over the defaults, so
// a share link of a preset run still only carries what differs from the defaults.
import type { RunConfig } from '../rl/config'

export interface Preset {
  id: string
  name: string
  /** one line: what this preset shows */
  about: string
  values: Partial<RunConfig>
}

/** The toy that trains in seconds even on a software GPU: a fresh 1-layer model learns to echo a digit.
 * Presets of other tasks say base_model '' so that they never inherit the addition demo's base.
 * A constant rate: a lesson that cuts the toy to a few dozen steps should still see it learn
 * (a linear decay over 60 steps leaves reward 0.23 at step 60 vs 0.70 constant). */
export const ECHO_VALUES: Partial<RunConfig> = {
  task: 'echo', base_model: '', n_layer: 1, n_head: 2, n_embd: 32, block_size: 16, num_generations: 8,
  prompts_per_step: 8, max_completion_length: 4, learning_rate: 5e-3, lr_scheduler_type: 'constant', max_steps: 150,
}

/** The Countdown run of the README's tables: the shipped base (the shuffled sub-goal corpus), the
 *  difficulty it was pretrained at, and the evaluation the figures were measured with. */
export const COUNTDOWN_VALUES: Partial<RunConfig> = {
  task: 'countdown', base_model: 'countdown', countdown_max_number: 9, countdown_max_target: 100, max_completion_length: 128, eval_every: 50,
  // 16 prompts a step: twice the samples lifted the plateau a few points (NOTES-15.md, p16)
  prompts_per_step: 16,
}

export const PRESETS: readonly Preset[] = [
  { id: 'addition', name: 'R1-Zero addition (default)', about: 'multi-digit addition: rewarded only for the right answer, the model learns to work it out', values: {} },
  { id: 'addition-trained', name: 'R1-Zero addition, trained (result)', about: 'the default run’s policy after its 300 GRPO steps (public/models/addition-grpo): its completions without training, or train on', values: { base_model: 'addition-grpo' } },
  { id: 'countdown', name: 'Countdown', about: 'TinyZero’s countdown (3 numbers of 1–9, targets ≤ 100): the base mostly guesses; GRPO turns guesses into searches of sub-goals', values: COUNTDOWN_VALUES },
  { id: 'countdown-dr-grpo', name: 'Countdown, Dr. GRPO', about: 'the Countdown run under Dr. GRPO (no std scaling, a constant normaliser): its pair for GRPO’s length bias', values: { ...COUNTDOWN_VALUES, loss_type: 'dr_grpo', scale_rewards: 'none' } },
  { id: 'countdown-trained', name: 'Countdown, trained (result)', about: 'the Countdown run’s policy after its 300 GRPO steps (public/models/countdown-grpo)', values: { ...COUNTDOWN_VALUES, base_model: 'countdown-grpo' } },
  { id: 'format-first', name: 'Format first (a base with a careless format)', about: 'the addition demo from a base pretrained with half its tags left out or misplaced: the format reward rises first, accuracy after', values: { base_model: 'addition-format-noise' } },
  { id: 'echo', name: 'Echo (toy, fast)', about: 'a fresh 1-layer model learns to echo a digit in a few seconds', values: ECHO_VALUES },
  { id: 'echo-kl', name: 'Echo with KL (toy)', about: 'the echo toy with β = 0.04: the KL penalty’s curve in seconds (the KL lesson’s second run)', values: { ...ECHO_VALUES, beta: 0.04 } },
  { id: 'echo-mu4', name: 'Echo, μ = 4 (toy)', about: 'the echo toy with num_iterations = 4: four updates per batch, so the ratio leaves 1 and clips (the clipped-ratio lesson’s second run)', values: { ...ECHO_VALUES, num_iterations: 4 } },
  { id: 'dr-grpo', name: 'Dr. GRPO', about: 'no std scaling and a constant normaliser: removes GRPO’s length and difficulty biases', values: { loss_type: 'dr_grpo', scale_rewards: 'none' } },
  { id: 'dapo', name: 'DAPO', about: 'clip-higher, token-level loss, dynamic sampling and soft overlong punishment', values: { loss_type: 'dapo', epsilon_high: 0.28, dynamic_sampling: true, overlong_buffer_length: 16, overlong_penalty_factor: 1.0 } },
  { id: 'with-kl', name: 'With KL', about: 'β = 0.04: a KL penalty keeps the policy near the starting model', values: { beta: 0.04 } },
  { id: 'cold-start', name: 'Cold start', about: 'DeepSeek-R1: a short supervised pass on worked examples, then the same RL', values: { cold_start_steps: 40 } },
  { id: 'group-2', name: 'Group size 2', about: 'G = 2: the smallest group; advantages are ±0.71 or 0', values: { num_generations: 2, prompts_per_step: 32 } },
]

export function presetById(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id)
}

/** The preset whose values a config matches exactly (on the preset's keys), else undefined. */
export function presetOf(config: RunConfig, defaults: RunConfig): Preset | undefined {
  return PRESETS.find((p) => {
    const want = { ...defaults, ...p.values }
    return (Object.keys(want) as (keyof RunConfig)[]).every((k) => JSON.stringify(want[k]) === JSON.stringify(config[k]))
  })
}
