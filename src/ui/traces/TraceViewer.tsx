// Each step's groups: the prompt and its G completions with <think> and <answer> set apart,
// reward per function, advantage as a colour, length, truncation, and reflection words marked.
// Browse past steps (older ones are read back from IndexedDB: the page keeps only recent traces
// in memory); filter correct / incorrect / truncated.
import { memo, useEffect, useState } from 'react'
import type { TraceCompletion, TraceRecord } from '../../rl/trainer'
import { useLab } from '../../store/labStore'
import { useReplay } from '../../store/replayStore'
import { useHighlight } from '../highlight'
import { advantageColor, completionParts, reflectionPieces } from './completionParts'

type Filter = 'all' | 'correct' | 'incorrect' | 'truncated'
const FILTERS: Filter[] = ['all', 'correct', 'incorrect', 'truncated']
const keep: Record<Filter, (c: TraceCompletion) => boolean> = {
  all: () => true, correct: (c) => c.correct, incorrect: (c) => !c.correct, truncated: (c) => c.truncated,
}

export function TraceViewer() {
  // every step has its metrics in memory; its trace may have to be read back
  const metrics = useLab((s) => s.run?.metrics)
  const traces = useLab((s) => s.run?.traces)
  const hidden = useLab((s) => s.hidden)
  const replayShown = useLab((s) => s.run?.source === 'replay')
  // an index into the run's steps; null: follow the latest step
  const chosen = useLab((s) => s.traceIndex)
  const setChosen = useLab((s) => s.setTraceIndex)
  const [filter, setFilter] = useState<Filter>('all')
  const n = metrics?.length ?? 0
  // a replay keeps a subset of traces (src/lab/replay.ts): "latest" is its latest kept one
  const replayEvery = useReplay((s) => (replayShown ? s.replay?.trace_every ?? null : null))
  const latest = replayEvery && traces?.length ? metrics!.findIndex((m) => m.step === traces.at(-1)!.step) : n - 1
  const index = chosen === null ? latest : Math.min(chosen, n - 1)
  const step = n ? metrics![index].step : 0
  const inMemory = traces?.find((t) => t.step === step) ?? null
  const [readBack, setReadBack] = useState<{ step: number; trace: TraceRecord | null; error?: string } | null>(null)
  useEffect(() => {
    if (!step || inMemory) return
    let current = true
    useLab.getState().traceAt(step).then(
      (trace) => { if (current) setReadBack({ step, trace }) },
      (e: Error) => { if (current) setReadBack({ step, trace: null, error: e.message }) })
    return () => { current = false }
  }, [step, inMemory])
  const highlighted = useHighlight('Traces')
  if (hidden.includes('traces')) return null
  const fetched = readBack?.step === step ? readBack : null
  const trace = inMemory ?? fetched?.trace ?? null
  const go = (i: number) => setChosen(i >= n - 1 ? null : Math.max(0, i))
  const missing = !step ? <p className="hint">Start a run: each step's prompts and completions appear here.</p>
    : replayEvery ? <p className="hint">This replay keeps the traces of step 1 and every {replayEvery}th step; step {step}'s was not recorded.</p>
    : !fetched ? <p className="hint">Reading step {step}'s trace from this browser's storage…</p>
      : <p className="hint">Step {step}'s trace is not in this page's memory{fetched.error ? ` and could not be read from storage (${fetched.error})` : ' nor in storage'}.</p>
  return (
    <section aria-label="Traces" className={`panel traces${highlighted}`}>
      <h2>Traces</h2>
      <div className="trace-nav">
        <button onClick={() => go(index - 1)} disabled={index <= 0} aria-label="Previous step">◀</button>
        <label>Step <input type="range" aria-label="Trace step" min={0} max={Math.max(0, n - 1)} value={Math.max(0, index)}
          disabled={n === 0} onChange={(e) => go(Number(e.target.value))} /></label>
        <button onClick={() => go(index + 1)} disabled={index >= n - 1} aria-label="Next step">▶</button>
        <span aria-label="Shown trace step" className="trace-step">{step ? `step ${step}${chosen === null ? ' (latest)' : ''}` : 'no steps yet'}</span>
        <span className="filters" role="radiogroup" aria-label="Filter completions">
          {FILTERS.map((f) => (
            <label key={f}><input type="radio" name="trace-filter" value={f} checked={filter === f} onChange={() => setFilter(f)} aria-label={`Show ${f}`} /> {f}</label>
          ))}
        </span>
      </div>
      <p className="hint legend">
        <span className="swatch" style={{ background: advantageColor(1.5) }} /> positive advantage
        <span className="swatch" style={{ background: advantageColor(-1.5) }} /> negative
        <mark>wait</mark> reflection word · <span className="think-sample">reasoning</span> · <span className="answer-sample">answer</span>
      </p>
      {trace ? <StepGroups trace={trace} filter={filter} /> : missing}
    </section>
  )
}

const StepGroups = memo(function StepGroups({ trace, filter }: { trace: TraceRecord; filter: Filter }) {
  return (
    <div className="groups">
      {trace.groups.map((g, gi) => {
        const shown = g.completions.filter(keep[filter])
        if (shown.length === 0) return null
        const rewardNames = Object.keys(g.completions[0]?.rewards ?? {})
        return (
          <div key={gi} className="group" aria-label={`Group ${gi + 1}`} role="group">
            <div className="group-head"><code className="prompt">{g.prompt}</code> <span className="hint">answer {g.answer}</span></div>
            <table className="completions">
              <thead><tr><th>completion</th>{rewardNames.map((r) => <th key={r}>{r}</th>)}<th>reward</th><th>advantage</th><th>length</th></tr></thead>
              <tbody>
                {shown.map((c, i) => (
                  <tr key={i} className={c.correct ? 'correct' : 'incorrect'} data-correct={c.correct} data-truncated={c.truncated}>
                    <td className="completion-text"><Completion text={c.text} />{c.truncated && <span className="badge">truncated</span>}</td>
                    {rewardNames.map((r) => <td key={r} className="num">{fixed(c.rewards[r])}</td>)}
                    <td className="num">{fixed(c.reward)}</td>
                    <td className="num" style={{ background: advantageColor(c.advantage) }}>{fixed(c.advantage)}</td>
                    <td className="num">{c.length}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      })}
    </div>
  )
})

/** Two decimals, and never "-0.00" for a value that rounds to zero. */
function fixed(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–'
  const t = x.toFixed(2)
  return t === '-0.00' ? '0.00' : t
}

function Marked({ text }: { text: string }) {
  return <>{reflectionPieces(text).map((p, i) => (p.reflection ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}</>
}

function Completion({ text }: { text: string }) {
  const p = completionParts(text)
  return (
    <code>
      <span className="think"><Marked text={p.think} /></span>
      {p.closedThink && <span className="tag">{'</think>'}</span>}
      {p.answer !== null && <><span className="tag">{'<answer>'}</span><span className="answer">{p.answer}</span><span className="tag">{'</answer>'}</span></>}
      {p.rest && <span className="rest">{p.rest}</span>}
    </code>
  )
}
