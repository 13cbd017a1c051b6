// The reward sandbox under the worksheet: edit the shown group's completions (or, with no run, an
// example group of the configured task) and see each reward function's score, the group's
// advantages and the loss recompute beside the original numbers, changes marked. Rewards are the
// task's own functions with the run's weights (src/rl/sandbox.ts); the loss needs per-token
// log-probs, which only a live model gives (the worker, as the worksheet gets them).
import { useEffect, useMemo, useState } from 'react'
import { CpuBackend } from '../../engine/cpu/cpuBackend'
import type { RunConfig } from '../../rl/config'
import { exampleGroup, problemOfPrompt, recomputeGroup, type SandboxCompletion, type SandboxResult } from '../../rl/sandbox'
import type { TraceRecord } from '../../rl/trainer'
import { useLab } from '../../store/labStore'
import { taskFor } from '../../tasks/registry'
import './sandbox.css'
import type { Problem, Task } from '../../tasks/types'

type TraceGroup = TraceRecord['groups'][number]

interface Props {
  /** the group the worksheet shows; absent: the typed numbers (no texts), so an example group */
  group?: TraceGroup
  /** its step (null without a group) */
  step: number | null
}

/** What the sandbox works on: the task, the config whose weights apply, the problem and the originals. */
interface Source { key: string; task: Task; config: RunConfig; problem: Problem; originals: SandboxCompletion[]; fromRun: boolean }

function sourceOf(group: TraceGroup | undefined, step: number | null, runConfig: RunConfig | undefined, controls: RunConfig): Source | { error: string } {
  try {
    if (group && runConfig) {
      const task = taskFor(runConfig)
      return {
        key: `${step}:${group.prompt}`, task, config: runConfig, problem: problemOfPrompt(task, group.prompt), fromRun: true,
        originals: group.completions.map((c) => ({ text: c.text, truncated: c.truncated })),
      }
    }
    const config = runConfig ?? controls
    const task = taskFor(config)
    const ex = exampleGroup(task, config)
    return { key: `example:${config.task}:${config.seed}`, task, config, problem: ex.problem, originals: ex.completions, fromRun: false }
  } catch (e) {
    return { error: (e as Error).message }
  }
}

/** The texts to score: an unedited completion keeps the sampler's truncation flag, an edited one is judged by its length. */
const edited = (originals: SandboxCompletion[], texts: string[]): SandboxCompletion[] =>
  texts.map((text, i) => (text === originals[i].text ? originals[i] : { text }))

interface Computed { original: SandboxResult; edited: SandboxResult | null; problem: string | null; lossNote: string }

/** Both groups through the sandbox: with log-probs from the live model when there is one. */
async function computeBoth(src: Source, texts: string[], live: boolean, step: number | null, toGetOne: string): Promise<Computed> {
  const be = new CpuBackend('f32')
  const now = edited(src.originals, texts)
  let logp: { original: number[][]; edited: number[][] } | null = null
  let lossNote = `The loss needs a model: the per-token log-probs of each text. ${toGetOne}; the rewards and advantages above need none.`
  if (live) {
    try {
      const lab = useLab.getState()
      const original = await lab.groupLogprobs(src.problem.prompt, src.originals.map((c) => c.text))
      logp = { original, edited: await lab.groupLogprobs(src.problem.prompt, now.map((c) => c.text)) }
      lossNote = `Log-probs of every token of each text under the current policy${step ? ` (after step ${step})` : ''}, from the live model as the worksheet gets them; with μ = 1 the old policy is the same model, so ρ = 1.`
    } catch (e) {
      lossNote = `The loss needs a model (${(e as Error).message}); the rewards and advantages above need none.`
    }
  }
  const original = await recomputeGroup(be, src.task, src.config, src.problem, src.originals, logp?.original ?? null)
  try {
    return { original, edited: await recomputeGroup(be, src.task, src.config, src.problem, now, logp?.edited ?? null), problem: null, lossNote }
  } catch (e) {
    return { original, edited: null, problem: (e as Error).message, lossNote }
  }
}

const fmt = (x: number | undefined, digits = 3) => {
  if (x === undefined || Number.isNaN(x)) return '–'
  const t = x.toFixed(digits)
  return /^-0\.0+$/.test(t) ? t.slice(1) : t
}

/** "was → now" when a number changed (marked), else the number. */
function Cell({ was, now, digits = 3, label }: { was: number; now: number | undefined; digits?: number; label: string }) {
  const changed = now !== undefined && fmt(was, digits) !== fmt(now, digits)
  return (
    <td className={`num${changed ? ' changed' : ''}`} aria-label={label} data-value={now === undefined ? '' : String(now)} data-original={String(was)}>
      {changed ? <><s>{fmt(was, digits)}</s> → <b>{fmt(now, digits)}</b></> : fmt(now ?? was, digits)}
    </td>
  )
}

export function RewardSandbox({ group, step }: Props) {
  const runConfig = useLab((s) => s.run?.config)
  const controls = useLab((s) => s.config)
  const runState = useLab((s) => s.runState)
  // log-probs only for a group of the run, when the worksheet asks for them too (a request queues behind the step in flight)
  const live = group !== undefined && (runState === 'running' || runState === 'paused' || runState === 'done')
  const src = useMemo(() => sourceOf(group, step, runConfig, controls), [group, step, runConfig, controls])
  const key = 'error' in src ? '' : src.key
  const [texts, setTexts] = useState<{ key: string; texts: string[] } | null>(null)
  const shown = 'error' in src ? [] : texts?.key === key ? texts.texts : src.originals.map((c) => c.text)
  const [result, setResult] = useState<{ key: string; computed: Computed | null; error?: string } | null>(null)
  // numbers of another group (the one before the worksheet moved on) are never shown against these texts
  const mine = result?.key === key ? result : null
  const computed = mine?.computed && mine.computed.original.group.completions.length === shown.length ? mine.computed : null

  useEffect(() => {
    if ('error' in src) return
    let cancelled = false
    const toGetOne = runConfig && runState !== 'idle' && runState !== 'loading'
      ? 'Choose a group of the run under “Numbers from” to take them from the live model'
      : 'Start (or resume) a run to see it recompute'
    // typing: wait for a pause before asking the worker for log-probs
    const timer = setTimeout(() => { void computeBoth(src, shown, live, step, toGetOne).then(
      (c) => { if (!cancelled) setResult({ key: src.key, computed: c }) },
      (err: Error) => { if (!cancelled) setResult({ key: src.key, computed: null, error: err.message }) }) }, 250)
    return () => { cancelled = true; clearTimeout(timer) }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [src, shown.join('\u0000'), live, runState])

  if ('error' in src) return <div className="reward-sandbox"><h3>Reward sandbox</h3><p role="status" className="error">{src.error}</p></div>
  const setText = (i: number, text: string) => setTexts({ key, texts: shown.map((t, j) => (j === i ? text : t)) })
  const o = computed?.original
  const e = computed?.edited
  const names = o?.group.names ?? []
  const batchNote = src.config.scale_rewards === 'batch' || src.config.multi_objective_aggregation === 'normalize_then_sum'
  return (
    <section aria-label="Reward sandbox" className="reward-sandbox">
      <h3>7. Reward sandbox: edit a completion</h3>
      <p className="hint">
        {src.fromRun
          ? <>Group of step {step}, prompt <code>{src.problem.prompt}</code>. Change a completion and the task’s reward functions score it again, as training would have.</>
          : <>No group of a run here: an example group of task <code>{src.task.id}</code>, prompt <code>{src.problem.prompt}</code>. Edit the texts; the task’s reward functions score them.</>}
        {' '}Weights as the {src.fromRun || runConfig ? 'run' : 'configuration'} sets them: {names.map((n, k) => `${n} × ${o!.group.weights[k]}`).join(', ')}.
        {batchNote && ' Training normalises over the whole batch here (scale_rewards = batch or normalize_then_sum); the sandbox, like the worksheet, uses this group alone.'}
      </p>
      {src.fromRun && runState === 'running' && <p className="hint">The run goes on: the worksheet moves to a newer group every 5th step and the edits start over. Pause to edit at leisure.</p>}
      {(computed?.problem ?? mine?.error) && <p role="alert" className="error">{computed?.problem ?? mine?.error}</p>}
      <div className="sandbox-scroll">
        <table className="worksheet-table sandbox-table" aria-label="Reward sandbox per completion">
          <thead>
            <tr><th>i</th><th>completion</th>{names.map((n) => <th key={n}>{n}</th>)}<th>reward r_i</th><th>A_i</th></tr>
          </thead>
          <tbody>
            {shown.map((t, i) => (
              <tr key={i} data-edited={t !== src.originals[i].text}>
                <td>{i + 1}</td>
                <td><input aria-label={`Completion ${i + 1} text`} value={t} spellCheck={false} onChange={(ev) => setText(i, ev.target.value)} /></td>
                {o && names.map((n) => <Cell key={n} label={`Completion ${i + 1} ${n}`} was={o.group.completions[i].byFunction[n]} now={e?.group.completions[i].byFunction[n]} />)}
                {o && <Cell label={`Completion ${i + 1} reward`} was={o.group.completions[i].total} now={e?.group.completions[i].total} />}
                {o && <Cell label={`Completion ${i + 1} advantage`} was={o.out.advantages[i]} now={e?.out.advantages[i]} />}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="buttons">
        <button onClick={() => setTexts(null)} disabled={shown.every((t, i) => t === src.originals[i].text)}>Undo edits</button>
      </div>
      {computed && (computed.original.withModel
        ? <>
          <p aria-label="Sandbox loss">Loss 𝓛: <Loss was={computed.original.out.loss} now={e?.out.loss} /></p>
          <p className="hint">{computed.lossNote}
            {Math.abs(computed.original.out.loss) < 1e-9 && Math.abs(e?.out.loss ?? 0) < 1e-9 &&
              ' Here the loss reads 0 whatever the texts (see “Why the loss can read 0” above); its gradient, −A_i per token, moves with the advantages.'}</p>
        </>
        : <p aria-label="Sandbox loss" className="note">{computed.lossNote}</p>)}
    </section>
  )
}

function Loss({ was, now }: { was: number; now: number | undefined }) {
  const changed = now !== undefined && fmt(was, 5) !== fmt(now, 5)
  return <span className={changed ? 'changed' : undefined} data-value={now ?? ''}>{changed ? <><s>{fmt(was, 5)}</s> → <b>{fmt(now, 5)}</b></> : fmt(now ?? was, 5)}</span>
}
