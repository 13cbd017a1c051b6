// Where the run's weights come from: fresh, a shipped checkpoint (public/models/<name>), or a
// base model pretrained here in the worker (next-token training on the task's pretraining
// text), kept in IndexedDB.
import { useState } from 'react'
import { pageModelSource, useLab } from '../../store/labStore'

export function BaseModelPanel() {
  const base = useLab((s) => s.config.base_model)
  const task = useLab((s) => s.config.task)
  const local = useLab((s) => s.localModels)
  const note = useLab((s) => s.pretrainNote)
  const pretraining = useLab((s) => 'pretrain' in s.progress)
  const runState = useLab((s) => s.runState)
  const hidden = useLab((s) => s.hidden)
  const [steps, setSteps] = useState('1500')
  if (hidden.includes('knobs') || hidden.includes('base_model')) return null
  const n = Number(steps)
  const stepsOk = Number.isInteger(n) && n >= 1 && n <= 100_000
  const lab = useLab.getState()
  const source = pageModelSource(base)
  const where = !base ? 'fresh weights' : local.includes(base) ? `${base} (pretrained in this browser)`
    : source.kind === 'other-origin' ? `${base} (from ${source.host}, only with your consent)`
    : /^[\w-]+$/.test(base) ? `${base} (models/${base}.safetensors)` : base
  return (
    <section aria-label="Base model" className="panel base-model">
      <h2>Base model</h2>
      <p className="hint">Runs start from: <b aria-label="Starts from">{where}</b></p>
      <div className="buttons">
        <label title="next-token steps of pretraining on the task's text (batch 32)">steps{' '}
          <input aria-label="Pretrain steps" value={steps} size={6} onChange={(e) => setSteps(e.target.value)} aria-invalid={!stepsOk} />
        </label>
        {pretraining
          ? <button onClick={() => lab.cancelPretrain()}>Cancel pretraining</button>
          : <button onClick={() => lab.pretrain(n)} disabled={!stepsOk || runState === 'loading' || runState === 'running'}
            title={`pretrain a ${task} base model with the model size set below`}>Pretrain base model</button>}
        {base && <button onClick={() => lab.freshWeights()}>Use fresh weights</button>}
      </div>
      {!stepsOk && <p role="alert" className="knob-problem">Pretrain steps: allowed an integer from 1 to 100000.</p>}
      {note && <p className="hint" role="status">{note}</p>}
    </section>
  )
}
