// Start / Pause (Resume) / Step / Reset and the speed control, with the run's state and step.
import { SPEEDS, useLab } from '../../store/labStore'
import { useHighlight } from '../highlight'

export function RunControls() {
  const runState = useLab((s) => s.runState)
  const steps = useLab((s) => s.run?.metrics.at(-1)?.step ?? 0)
  const maxSteps = useLab((s) => s.run?.config.max_steps ?? s.config.max_steps)
  const delayMs = useLab((s) => s.delayMs)
  const resumable = useLab((s) => s.resumable)
  const lab = useLab.getState()
  const busy = runState === 'running' || runState === 'paused'
  const highlighted = useHighlight('Run controls')
  return (
    <section aria-label="Run controls" className={`panel run-controls${highlighted}`}>
      <div className="buttons">
        <button className="primary" onClick={() => lab.start()} disabled={runState === 'loading' || busy}>Start</button>
        <button onClick={() => lab.pauseOrResume()} disabled={!busy}>{runState === 'paused' ? 'Resume' : 'Pause'}</button>
        <button onClick={() => (runState === 'paused' ? lab.step() : lab.start({ paused: true, stepOnce: true }))}
          disabled={runState === 'loading' || runState === 'running'}
          title="one GRPO step, then pause">
          Step
        </button>
        <button onClick={() => lab.reset()} disabled={runState === 'loading'} title="stop the run and clear its charts; settings stay">Reset</button>
      </div>
      <label className="speed">Speed{' '}
        <select aria-label="Speed" value={delayMs} onChange={(e) => lab.setSpeed(Number(e.target.value))}>
          {SPEEDS.map((s) => <option key={s.delayMs} value={s.delayMs}>{s.label}</option>)}
        </select>
      </label>
      <div className="run-state">
        <span>State <b aria-label="Run state">{runState}</b></span>
        <span>Step <b aria-label="Step">{steps ? String(steps) : '–'}</b> / {maxSteps}</span>
      </div>
      {resumable && runState !== 'running' && runState !== 'paused' && (
        <div className="resume" role="status" aria-label="Saved run">
          {resumable.step > 0
            ? <>This run was saved at step {resumable.step}.{' '}</>
            : <>This run stopped before its first snapshot; its seed recomputes the same steps.{' '}</>}
          <button className="primary" onClick={() => void lab.resumeSaved()} disabled={runState === 'loading'}>Resume from step {resumable.step}</button>
        </div>
      )}
    </section>
  )
}
