// The replay on screen (src/store/replayStore.ts): what it is — a recorded run, its backend and
// steps — and its player: Play / Pause, Step (one recorded step), the speed, and "Run it live".
import { presetById } from '../lab/presets'
import { useLab } from '../store/labStore'
import { REPLAY_SPEEDS, useReplay } from '../store/replayStore'

export function ReplayPanel() {
  const { replay, shown, playing, stepsPerSecond, loading } = useReplay()
  const onScreen = useLab((s) => s.run?.source === 'replay')
  const player = useReplay.getState()
  if (loading && !onScreen) return <p className="hint" role="status" aria-label="Replay loading">Loading the recorded run of {loading}…</p>
  if (!replay || !onScreen) return null
  const total = replay.run.config.max_steps
  const which = replay.steps < total ? <>the <b>first {replay.steps} steps of the recorded run</b> (of its {total})</> : <>all {replay.steps} steps</>
  const speed = REPLAY_SPEEDS.findIndex((s) => s.stepsPerSecond === stepsPerSecond)
  return (
    <section aria-label="Replay" className="panel replay">
      <p className="replay-banner" aria-label="Replay notice">
        <b>Replay of a recorded run</b>: {presetById(replay.preset)?.name ?? replay.preset}, {which}, recorded
        on the {replay.backend.label.replace(/^CPU backend/, 'fast CPU backend')}. Nothing trains in this page while it plays.
      </p>
      <p className="hint">
        Traces kept for step 1 and {replay.trace_every > 1 ? `every ${replay.trace_every}th step` : 'every step'}; recorded
        in {replay.recorded.minutes.toFixed(1)} min. <b>Run it live</b> trains the same settings here: on this backend (a browser
        without WebGPU, or <code>?backend=cpu</code>) it reproduces these numbers; on a GPU they differ in the last digits.
      </p>
      <div className="buttons replay-controls">
        <button onClick={() => (playing ? player.pause() : player.play())}>{playing ? 'Pause' : 'Play'}</button>
        <button onClick={() => player.step()} disabled={shown >= replay.steps} title="one recorded step, then pause">Step</button>
        <label className="speed">Speed{' '}
          <select aria-label="Replay speed" value={speed} onChange={(e) => player.setSpeed(REPLAY_SPEEDS[Number(e.target.value)].stepsPerSecond)}>
            {REPLAY_SPEEDS.map((s, i) => <option key={s.label} value={i}>{s.label}</option>)}
          </select>
        </label>
        <span className="run-state">Step <b aria-label="Replayed step">{shown || '–'}</b> / {replay.steps}</span>
        <button className="primary" onClick={() => player.runLive()}>Run it live</button>
      </div>
    </section>
  )
}
