import { useEffect } from 'react'
import { adapterLabel } from '../engine/backend'
import { useLab } from '../store/labStore'
import { LossChart } from './LossChart'

export function App() {
  const s = useLab()
  useEffect(() => { s.connect() }, [])
  const losses = s.reports.map((r) => r.loss)
  const last = s.reports[s.reports.length - 1]
  const running = s.runState === 'running'
  const paused = s.runState === 'paused'
  return (
    <main>
      <header>
        <h1>grpo-lab</h1>
        <p className="tagline">Train a tiny language model on your own GPU, in this page.</p>
        <p role="status" aria-label="Adapter" className="adapter">
          {s.adapter ? adapterLabel(s.adapter) : 'Looking for a WebGPU adapter…'}
        </p>
        {s.fallbackReason && (
          <p role="alert" className="warning">
            No WebGPU ({s.fallbackReason}). The lab runs on the CPU backend instead: slower, same results.
          </p>
        )}
        {s.error && <p role="alert" className="error">{s.error}</p>}
      </header>

      <section aria-label="Engine check" className="panel">
        <h2>Engine check: next-token training on a rhyme</h2>
        <p className="hint">
          A {s.config.nLayer}-layer GPT of width {s.config.nEmbd} learns to continue
          “the cat sat on the mat. the dog sat on the log.” in a Web Worker. The loss should fall
          from about 2.7 (chance) towards 0.1.
        </p>
        <div className="controls">
          <label>Steps <input aria-label="Steps" type="number" min={1} max={2000} value={s.config.steps}
            onChange={(e) => s.setConfig({ steps: Math.max(1, Math.min(2000, Number(e.target.value) || 1)) })} /></label>
          <label>learning_rate <input aria-label="learning_rate" type="number" step="0.001" min={0.0001} max={0.1}
            value={s.config.learningRate}
            onChange={(e) => s.setConfig({ learningRate: Number(e.target.value) || 1e-2 })} /></label>
          <label>Seed <input aria-label="Seed" type="number" min={0} value={s.config.seed}
            onChange={(e) => s.setConfig({ seed: Math.max(0, Math.floor(Number(e.target.value) || 0)) })} /></label>
          <button onClick={() => s.start()} disabled={s.runState === 'loading' || running}>Start</button>
          <button onClick={() => s.send({ type: paused ? 'resume' : 'pause' })} disabled={!running && !paused}>
            {paused ? 'Resume' : 'Pause'}</button>
          <button onClick={() => s.send({ type: 'step' })} disabled={!paused}>Step</button>
          <button onClick={() => { s.send({ type: 'stop' }); useLab.setState({ reports: [], samples: [] }) }}
            disabled={s.runState === 'loading'}>Reset</button>
        </div>
        <div className="stats">
          <Stat label="Run state" value={s.runState} />
          <Stat label="Step" value={last ? String(last.step) : '–'} />
          <Stat label="First loss" value={losses.length ? losses[0].toFixed(4) : '–'} />
          <Stat label="Current loss" value={last ? last.loss.toFixed(4) : '–'} />
          <Stat label="ms per step" value={last ? last.stepTimeMs.toFixed(1) : '–'} />
          <Stat label="Dispatches per step" value={last ? String(last.counters.dispatches) : '–'} />
          <Stat label="Readbacks per step" value={last ? String(last.counters.readbacks) : '–'} />
        </div>
        <LossChart values={losses} label="Loss chart" />
        <h3>What the model writes after “the ” (greedy)</h3>
        <ol aria-label="Samples" className="samples">
          {s.samples.map((x) => <li key={x.step}><span className="step">step {x.step}</span> <code>{x.text}</code></li>)}
        </ol>
      </section>

      <GrpoPanel />
    </main>
  )
}

/** The toy GRPO run of the engine check: the trainer in the worker, on the echo task. */
export const ECHO_RUN = {
  task: 'echo', seed: 1, n_layer: 1, n_head: 2, n_embd: 32, block_size: 16, num_generations: 8,
  prompts_per_step: 8, max_completion_length: 4, learning_rate: 5e-3, max_steps: 150,
}

function GrpoPanel() {
  const s = useLab()
  const ms = s.grpoMetrics
  const last = ms[ms.length - 1]
  return (
    <section aria-label="GRPO check" className="panel">
      <h2>GRPO check: a fresh model learns to echo a digit</h2>
      <p className="hint">
        8 prompts × 8 completions per step, rewarded by rules only (exact echo 1.0, right first character 0.5).
        Reward starts at chance (about 0.05) and climbs towards 1.5.
      </p>
      <div className="controls">
        <button onClick={() => s.startGrpo(ECHO_RUN)} disabled={s.runState === 'loading' || s.runState === 'running'}>Start GRPO</button>
      </div>
      <div className="stats">
        <Stat label="GRPO step" value={last ? String(last.step) : '–'} />
        <Stat label="Reward" value={last ? last.reward.toFixed(3) : '–'} />
        <Stat label="Accuracy" value={last ? last.accuracy.toFixed(3) : '–'} />
        <Stat label="Readbacks per GRPO step" value={last ? String(last.readbacks) : '–'} />
      </div>
      <LossChart values={ms.map((m) => m.reward)} label="Reward chart" />
      {s.grpoTrace && (
        <p className="hint">Step {s.grpoTrace.step}, prompt <code>{s.grpoTrace.groups[0].prompt}</code>: {' '}
          {s.grpoTrace.groups[0].completions.map((c, i) => <code key={i} className={c.correct ? 'ok' : ''}>{JSON.stringify(c.text)} </code>)}</p>
      )}
      <details>
        <summary>Metrics of the last step (JSON)</summary>
        <pre aria-label="Last GRPO metrics">{last ? JSON.stringify(last, null, 1) : ''}</pre>
      </details>
    </section>
  )
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" aria-label={label}>{value}</div>
    </div>
  )
}
