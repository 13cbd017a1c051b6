// Export the run (JSON: config, metrics, traces), its metrics (CSV), the trained model
// (safetensors, ONNX for onnxruntime, or a Hugging Face folder as a .zip) and the run as a TRL
// project (a .zip); import a run file to show it, or to compare it with the shown run on the charts;
// open an offline lesson file (a lesson with its base models and replays, "Download for offline use").
import { useRef } from 'react'
import { MAX_RUN_FILE_BYTES } from '../../lab/runFile'
import { useLab } from '../../store/labStore'
import { OpenLessonFile } from '../lesson/OpenLessonFile'

export function ExportPanel() {
  const hidden = useLab((s) => s.hidden)
  const hasRun = useLab((s) => !!s.run)
  const live = useLab((s) => s.runState === 'running' || s.runState === 'paused' || s.runState === 'done')
  const openRef = useRef<HTMLInputElement>(null)
  const compareRef = useRef<HTMLInputElement>(null)
  if (hidden.includes('export')) return null
  const lab = useLab.getState()
  const read = (as: 'open' | 'compare') => async (e: React.ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0]
    e.target.value = ''
    if (!f) return
    if (f.size > MAX_RUN_FILE_BYTES) { lab.alert(`${f.name} is ${(f.size / 2 ** 20).toFixed(0)} MiB; run files up to ${MAX_RUN_FILE_BYTES / 2 ** 20} MiB can be imported.`); return }
    lab.importRun(await f.text(), as)
  }
  return (
    <section aria-label="Export and import" className="panel export">
      <h2>Export and import</h2>
      <div className="buttons">
        <button onClick={() => void lab.exportRun()} disabled={!hasRun}>Export run</button>
        <button onClick={() => lab.exportCsv()} disabled={!hasRun}>Export metrics CSV</button>
        <button onClick={() => lab.exportModel()}>Export model</button>
        <button onClick={() => lab.exportModel('onnx')} title="The policy as ONNX (opset 17, with a KV cache) for onnxruntime">Export ONNX</button>
        <button onClick={() => lab.exportModel('hf')} title="A Hugging Face gpt2 folder in a .zip: safetensors, config, tokenizer, ONNX for transformers.js, model card">Export for Hugging Face</button>
      </div>
      <div className="buttons">
        <button onClick={() => lab.exportTrl()} title="The run's configuration as a TRL project in a .zip: its base model as a Hugging Face folder, the task's prompts and rewards in Python, train.py for GRPOTrainer (one CPU, one GPU or accelerate launch)">Export to TRL</button>
        <button onClick={() => lab.exportTrl(true)} disabled={!live} title="The same project, starting from the live run's current model instead of its base model">Export to TRL (current model)</button>
      </div>
      <div className="buttons">
        <button onClick={() => openRef.current?.click()}>Import run</button>
        <button onClick={() => compareRef.current?.click()}>Compare run</button>
        <OpenLessonFile />
        <input ref={openRef} type="file" accept=".json,application/json" hidden aria-label="Import run file" onChange={read('open')} />
        <input ref={compareRef} type="file" accept=".json,application/json" hidden aria-label="Compare run file" onChange={read('compare')} />
      </div>
      <p className="hint">Compare draws another run on the same charts, named by what it changes (for example GRPO vs Dr. GRPO), with a table of final figures; add as many as you like.</p>
    </section>
  )
}
