// The GRPO worksheet: one group's numbers through every formula — rewards → advantages →
// ratios → clipped objective → KL → the loss_type's aggregation — computed by the same
// computeWorksheet as `grpo-lab worksheet` and the training kernels' CPU twins.
import 'katex/dist/katex.min.css'
import { useEffect, useMemo, useState } from 'react'
import { CpuBackend } from '../../engine/cpu/cpuBackend'
import { computeWorksheet, type ParsedWorksheetInput, parseWorksheetInput, weightedRewards, type WorksheetOutput } from '../../rl/worksheet'
import { useLab, type WorksheetSource } from '../../store/labStore'
import { useHighlight } from '../highlight'
import { replayWorksheetLogp } from './replayInputs'
import type { RunConfig } from '../../rl/config'
import { objectiveKind } from '../../rl/loss'
import { RewardSandbox } from './RewardSandbox'
import { ADVANTAGE_TEX, AGGREGATION_TEX, extrasTex, num, paren, perTokenTex, ratioTex, renderTex, vec } from './tex'

const EXAMPLE = {
  config: { loss_type: 'grpo', scale_rewards: 'group', epsilon: 0.2, epsilon_high: 0.2, beta: 0.04, max_completion_length: 4 },
  groups: [{
    rewards: [1.1, 0.1, 0.0, 1.1],
    completions: [
      { logp: [-0.3, -0.5], logp_old: [-0.4, -0.5], logp_ref: [-0.35, -0.6] },
      { logp: [-1.2, -0.9, -0.7], logp_old: [-1.0, -0.9, -0.8], logp_ref: [-1.1, -1.0, -0.8] },
      { logp: [-2.0, -1.5], logp_old: [-1.6, -1.5], logp_ref: [-1.8, -1.4] },
      { logp: [-0.2, -0.1, -0.4, -0.3], logp_old: [-0.25, -0.1, -0.5, -0.3], logp_ref: [-0.3, -0.2, -0.4, -0.3] },
    ],
  }],
}

/** The run's GRPOConfig keys the worksheet takes (the group's rewards are already weighted). */
function worksheetConfigOf(c: RunConfig) {
  const { loss_type, scale_rewards, epsilon, epsilon_high, beta, mask_truncated_completions, importance_sampling_level, delta,
    top_entropy_quantile, entropy_coef, sapo_temperature_pos, sapo_temperature_neg, vespo_k_pos, vespo_lambda_pos, vespo_k_neg,
    vespo_lambda_neg } = c
  return { loss_type, scale_rewards, epsilon, epsilon_high, beta, mask_truncated_completions, importance_sampling_level, delta,
    top_entropy_quantile, entropy_coef, sapo_temperature_pos, sapo_temperature_neg, vespo_k_pos, vespo_lambda_pos, vespo_k_neg,
    vespo_lambda_neg }
}


function Tex({ tex }: { tex: string }) {
  // KaTeX output from a string of our own numbers (see tex.ts), never from user text
  return <div className="tex" dangerouslySetInnerHTML={{ __html: renderTex(tex) }} />
}

export function Worksheet() {
  const hidden = useLab((s) => s.hidden)
  const run = useLab((s) => s.run)
  const runState = useLab((s) => s.runState)
  // while a run goes, follow it every 5th step only: each refresh costs the worker a forward pass
  const traces = run?.traces ?? []
  const last = traces.length - 1
  const followed = runState === 'running' && last >= 0 ? traces[Math.max(0, last - (traces[last].step % 5))] : traces.at(-1)
  const trace = followed ?? null
  const source = useLab((s) => s.worksheetSource)
  const setSource = useLab((s) => s.setWorksheetSource)
  const [typed, setTyped] = useState(JSON.stringify(EXAMPLE, null, 1))
  const [result, setResult] = useState<{ input: ParsedWorksheetInput; out: WorksheetOutput; note: string } | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  const live = runState === 'running' || runState === 'paused' || runState === 'done'
  // a lesson's typed example replaces the box's text
  useEffect(() => { if (source.kind === 'typed' && source.text !== undefined) setTyped(source.text) }, [source])
  const highlighted = useHighlight('GRPO worksheet')

  const effective: WorksheetSource = source.kind === 'group' && !trace ? { kind: 'typed' } : source
  const groupIndex = effective.kind === 'group' ? Math.min(effective.index, (trace?.groups.length ?? 1) - 1) : 0
  const group = effective.kind === 'group' ? trace?.groups[groupIndex] : undefined

  const typedInput = useMemo(() => {
    if (effective.kind !== 'typed') return null
    try { return { input: parseWorksheetInput(JSON.parse(typed)), error: null } } catch (e) { return { input: null, error: (e as Error).message } }
  }, [typed, effective.kind])

  useEffect(() => {
    let cancelled = false
    const compute = async () => {
      let input: ParsedWorksheetInput
      let note = ''
      if (effective.kind === 'typed') {
        if (!typedInput?.input) { setProblem(typedInput?.error ?? null); setResult(null); return }
        input = typedInput.input
      } else {
        if (!group || !run) return
        const c = run.config
        let logp: number[][]
        const recorded = run.source === 'replay' ? replayWorksheetLogp(trace!.step, groupIndex, group) : null
        if (recorded) {
          logp = recorded.logp
          note = recorded.note
        } else if (live) {
          try {
            logp = await useLab.getState().groupLogprobs(group.prompt, group.completions.map((x) => x.text))
            note = `log-probs of each completion token under the current policy (after step ${trace!.step}); with μ = 1 the old policy is the same model, so ρ = 1.`
          } catch (e) {
            if (!cancelled) setProblem((e as Error).message)
            return
          }
        } else {
          logp = group.completions.map((x) => Array.from({ length: Math.max(1, x.length) }, () => -1))
          note = 'this run has no live model here, so every token’s log-prob is shown as −1; the advantages, the loss and its gradient do not depend on that value at μ = 1.'
        }
        input = parseWorksheetInput({
          config: { ...worksheetConfigOf(c), max_completion_length: Math.max(c.max_completion_length, ...logp.map((l) => l.length)) },
          groups: [{ rewards: group.completions.map((x) => x.reward), completions: logp.map((l, i) => ({ logp: l.length ? l : [-1], truncated: group.completions[i].truncated })) }],
        })
        if (c.scale_rewards === 'batch') note += ' scale_rewards = batch divides by the whole batch’s std in training; this group alone uses its own.'
      }
      const out = await computeWorksheet(new CpuBackend('f32'), input)
      if (!cancelled) { setResult({ input, out, note }); setProblem(null) }
    }
    void compute()
    return () => { cancelled = true }
    // recompute when the group (its step) or the typed numbers change
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [effective.kind, groupIndex, trace?.step, typedInput, live, run?.id])

  if (hidden.includes('worksheet')) return null
  return (
    <section aria-label="GRPO worksheet" className={`panel worksheet${highlighted}`}>
      <h2>GRPO worksheet</h2>
      <div className="worksheet-source">
        <label>Numbers from{' '}
          <select aria-label="Worksheet source" value={effective.kind === 'typed' ? 'typed' : String(groupIndex)}
            onChange={(e) => setSource(e.target.value === 'typed' ? { kind: 'typed' } : { kind: 'group', index: Number(e.target.value) })}>
            {trace?.groups.map((g, i) => <option key={i} value={i}>group {i + 1} of step {trace.step}: {g.prompt.slice(0, 24)}</option>)}
            <option value="typed">numbers I type (JSON)</option>
          </select>
        </label>
      </div>
      {effective.kind === 'typed' && (
        <textarea aria-label="Worksheet numbers" className="worksheet-input" rows={8} value={typed} spellCheck={false}
          onChange={(e) => setTyped(e.target.value)} />
      )}
      {problem && <p role="alert" className="error">{problem}</p>}
      {result && <WorksheetBody {...result} />}
      <RewardSandbox group={group} step={trace?.step ?? null} />
    </section>
  )
}

/** Fixed decimals without a "-0.000" for what rounds to zero. */
const fix3 = (x: number, digits = 3) => { const t = x.toFixed(digits); return /^-0\.0+$/.test(t) ? t.slice(1) : t }

function WorksheetBody({ input, out, note }: { input: ParsedWorksheetInput; out: WorksheetOutput; note: string }) {
  const c = out.config
  const rewards = weightedRewards(input)
  const G = input.groups[0].completions.length
  const g0 = rewards.slice(0, G)
  const mean = g0.reduce((a, b) => a + b, 0) / G
  const std = Math.sqrt(g0.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, G - 1))
  const comps = input.groups.flatMap((g) => g.completions)
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN)
  const first = out.completions[0]
  const A0 = out.advantages[0]
  const rho0 = first.ratio[0]
  const clip0 = Math.min(Math.max(rho0, 1 - c.epsilon), 1 + c.epsilon_high)
  const clipFamily = objectiveKind(c.loss_type) === 'clip' && c.delta === 0
  const extras = extrasTex(c)
  const mu1 = comps.every((x) => !x.logp_old || x.logp_old.every((v, t) => v === x.logp[t]))
  return (
    <div className="worksheet-body">
      {note && <p className="hint">{note}</p>}
      <h3>1. Rewards</h3>
      <Tex tex={`r = ${vec(rewards)},\\quad \\operatorname{mean} = ${num(mean)},\\quad \\operatorname{std} = ${num(std)}\\ (n-1)`} />
      <h3>2. Advantages ({c.scale_rewards === 'none' ? 'scale_rewards = none' : `scale_rewards = ${c.scale_rewards}`})</h3>
      <Tex tex={ADVANTAGE_TEX[c.scale_rewards]} />
      <Tex tex={`A = ${vec(out.advantages)}`} />
      <h3>3. Ratios (importance_sampling_level = {c.importance_sampling_level})</h3>
      <Tex tex={`${ratioTex(c)},\\qquad \\rho_{1,1} = ${num(rho0, 4)}`} />
      <h3>4. Per-token loss: loss_type = {c.loss_type}</h3>
      <Tex tex={perTokenTex(c)} />
      {clipFamily && <Tex tex={`-\\ell_{1,1} = \\min(${num(rho0)} \\cdot ${paren(A0)},\\ ${num(clip0)} \\cdot ${paren(A0)}) = ${num(first.objective[0])}`} />}
      {!clipFamily && <Tex tex={`-\\ell_{1,1} = ${num(first.objective[0])}`} />}
      <h3>5. KL to the reference (k3), β = {c.beta}{extras.length > 0 ? ', entropy terms' : ''}</h3>
      <Tex tex={`\\mathrm{KL}_{i,t} = e^{\\log\\pi_{\\text{ref}} - \\log\\pi_\\theta} - (\\log\\pi_{\\text{ref}} - \\log\\pi_\\theta) - 1`} />
      {c.beta > 0 && <Tex tex={`\\overline{\\mathrm{KL}} = ${num(out.metrics.kl, 4)}`} />}
      {extras.map((x) => <Tex key={x} tex={x} />)}
      <h3>6. Aggregation: loss_type = {c.loss_type}</h3>
      <Tex tex={AGGREGATION_TEX[c.loss_type]} />
      <Tex tex={`\\mathcal{L} = ${num(out.loss, 5)}`} />
      <table className="worksheet-table" aria-label="Worksheet per completion">
        <thead><tr><th>i</th><th>reward</th><th>A_i</th><th>|o_i|</th><th>mean ρ</th><th>mean obj</th><th>mean KL</th><th>clipped</th><th>∂L/∂logp (1st token)</th></tr></thead>
        <tbody>
          {out.completions.map((x, i) => (
            <tr key={i}>
              <td>{i + 1}</td><td className="num">{rewards[i].toFixed(3)}</td><td className="num">{fix3(out.advantages[i])}</td>
              <td className="num">{comps[i].logp.length}</td><td className="num">{avg(x.ratio).toFixed(3)}</td>
              <td className="num">{fix3(avg(x.objective), 4)}</td><td className="num">{avg(x.kl).toFixed(4)}</td>
              <td className="num">{x.clipped.filter(Boolean).length}</td><td className="num">{x.grad[0]?.toExponential(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="note mu-note" aria-label="Why the loss reads 0">
        <b>Why the loss can read 0 while the model still learns.</b>{' '}
        {mu1 ? 'Here μ = 1: the old policy is the current one, so every ratio is exactly 1 and ' : 'With μ = 1 the old policy is the current one, so every ratio is exactly 1 and '}
        the objective of a token is just A_i. Within a group the advantages sum to 0, so with β = 0 and loss_type grpo the loss is 0
        (other loss types weight long and short completions differently and read near 0). Its gradient is not 0:
        <Tex tex={`\\frac{\\partial \\mathcal{L}}{\\partial \\log\\pi_\\theta(o_{i,t})} = -\\,w_i\\,\\rho_{i,t} A_i \\;\\Rightarrow\\; \\text{for } i = 1:\\ ${num(first.grad[0] ?? NaN, 5)}`} />
        completions with A_i &gt; 0 are pushed up and those with A_i &lt; 0 pushed down. A loss of 0 is not a bug; watch reward and accuracy instead.
      </div>
    </div>
  )
}
