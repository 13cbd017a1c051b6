// Task, preset, model size and the GRPO knobs, grouped as a person reads them. Lesson links
// can hide any knob (`<key>_hide=1`) or the whole panel (`knobs_hide=1`, `preset_hide=1`).
import type { RunConfig } from '../../rl/config'
import { PRESETS } from '../../lab/presets'
import { useLab } from '../../store/labStore'
import { KnobInput } from './KnobInput'
import { useHighlight } from '../highlight'

/** The knobs by topic (the link builder lists them so too). */
export const GROUPS: { title: string; keys: (keyof RunConfig)[]; open?: boolean }[] = [
  { title: 'Task and model', keys: ['task', 'seed', 'base_model', 'n_layer', 'n_head', 'n_embd', 'block_size'], open: true },
  { title: 'Countdown difficulty', keys: ['countdown_numbers', 'countdown_max_number', 'countdown_max_target'] },
  { title: 'Rollout', keys: ['num_generations', 'prompts_per_step', 'temperature', 'top_k', 'max_completion_length'], open: true },
  { title: 'GRPO loss', keys: ['loss_type', 'importance_sampling_level', 'scale_rewards', 'multi_objective_aggregation', 'beta', 'epsilon', 'epsilon_high', 'delta', 'num_iterations', 'steps_per_generation', 'gradient_accumulation_steps', 'mask_truncated_completions'], open: true },
  { title: 'Entropy, SAPO and VESPO', keys: ['top_entropy_quantile', 'entropy_coef', 'sapo_temperature_pos', 'sapo_temperature_neg', 'vespo_k_pos', 'vespo_lambda_pos', 'vespo_k_neg', 'vespo_lambda_neg'] },
  { title: 'DAPO', keys: ['dynamic_sampling', 'max_resample_rounds', 'overlong_buffer_length', 'overlong_penalty_factor'] },
  { title: 'Cold start', keys: ['cold_start_steps', 'cold_start_learning_rate'] },
  { title: 'Optimizer and rewards', keys: ['learning_rate', 'lr_scheduler_type', 'weight_decay', 'adam_beta1', 'adam_beta2', 'max_grad_norm', 'reward_weights'] },
  { title: 'Length and evaluation', keys: ['max_steps', 'eval_every', 'eval_problems'] },
]

export function ConfigPanel() {
  const hidden = useLab((s) => s.hidden)
  const presetId = useLab((s) => s.presetId)
  const choosePreset = useLab((s) => s.choosePreset)
  const runConfig = useLab((s) => s.run?.config)
  const config = useLab((s) => s.config)
  const runState = useLab((s) => s.runState)
  const changed = runConfig && (runState === 'running' || runState === 'paused') && JSON.stringify(runConfig) !== JSON.stringify(config)
  const preset = PRESETS.find((p) => p.id === presetId)
  const highlighted = useHighlight('Configuration')
  return (
    <section aria-label="Configuration" className={`panel config${highlighted}`}>
      {!hidden.includes('preset') && (
        <div className="preset">
          <label>Preset{' '}
            <select aria-label="Preset" value={presetId ?? ''} onChange={(e) => choosePreset(e.target.value)}>
              {presetId === null && <option value="">(custom)</option>}
              {PRESETS.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </select>
          </label>
          <p className="hint">{preset ? preset.about : 'custom settings: hover a knob to see what it does'}</p>
        </div>
      )}
      {changed && <p className="note">Changed settings apply when you press Reset, then Start.</p>}
      {!hidden.includes('knobs') && GROUPS.map((g) => {
        const keys = g.keys.filter((k) => !hidden.includes(k))
        if (keys.length === 0) return null
        return (
          <details key={g.title} open={g.open}>
            <summary>{g.title}</summary>
            <div className="knobs">{keys.map((k) => <KnobInput key={k} name={k} />)}</div>
          </details>
        )
      })}
    </section>
  )
}
