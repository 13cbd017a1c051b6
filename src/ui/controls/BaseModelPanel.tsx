// Where the run's weights come from: fresh, a shipped checkpoint (public/models/<name>), or a
// base model pretrained here in the worker (next-token training on the task's pretraining
// text), kept in IndexedDB; or a model loaded from a file: the lab's .safetensors, a Hugging Face
// gpt2 folder (chosen or dropped), or a .zip of one.
import { useRef, useState } from 'react'
import { pageModelSource, useLab } from '../../store/labStore'
import { HF_FOLDER_FILES } from '../../model/hfFolder'


async function readFiles(files: File[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>()
  for (const f of files) out.set(f.name, new Uint8Array(await f.arrayBuffer()))
  return out
}

/** A dropped folder's top-level files, or the dropped file. */
async function droppedFiles(e: React.DragEvent): Promise<{ name: string; files: File[] } | null> {
  const entry = e.dataTransfer.items[0]?.webkitGetAsEntry?.()
  if (entry?.isDirectory) {
    // readEntries gives a folder's entries in batches (about 100 in Chromium) until an empty one
    const reader = (entry as FileSystemDirectoryEntry).createReader()
    const entries: FileSystemEntry[] = []
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject))
      if (!batch.length) break
      entries.push(...batch)
    }
    const wanted = entries.filter((x) => x.isFile && HF_FOLDER_FILES.includes(x.name)) as FileSystemFileEntry[]
    return { name: entry.name, files: await Promise.all(wanted.map((x) => new Promise<File>((resolve, reject) => x.file(resolve, reject)))) }
  }
  const file = e.dataTransfer.files[0]
  return file ? { name: file.name, files: [file] } : null
}

export function BaseModelPanel() {
  const base = useLab((s) => s.config.base_model)
  const task = useLab((s) => s.config.task)
  const local = useLab((s) => s.localModels)
  const imported = useLab((s) => s.importedModels)
  const fromLessonFile = useLab((s) => Object.hasOwn(s.bundleModels, s.config.base_model))
  const note = useLab((s) => s.pretrainNote)
  const pretraining = useLab((s) => 'pretrain' in s.progress)
  const runState = useLab((s) => s.runState)
  const hidden = useLab((s) => s.hidden)
  const [steps, setSteps] = useState('1500')
  const fileRef = useRef<HTMLInputElement>(null)
  const folderRef = useRef<HTMLInputElement>(null)
  if (hidden.includes('knobs') || hidden.includes('base_model')) return null
  const n = Number(steps)
  const stepsOk = Number.isInteger(n) && n >= 1 && n <= 100_000
  const lab = useLab.getState()
  const source = pageModelSource(base)
  const where = !base ? 'fresh weights' : fromLessonFile ? `${base} (from the lesson file opened here)` : imported.includes(base) ? `${base} (loaded from a file, kept in this browser)`
    : local.includes(base) ? `${base} (pretrained in this browser)`
    : source.kind === 'other-origin' ? `${base} (from ${source.host}, only with your consent)`
    : /^[\w-]+$/.test(base) ? `${base} (models/${base}.safetensors)` : base
  const unreadable = (e: unknown) => lab.alert(`The model could not be read from this computer (${(e as Error).message}).`)
  const load = (name: string, files: File[]) => { readFiles(files).then((m) => lab.importBaseModel(name, m), unreadable) }
  const chosen = (folder: boolean) => (e: React.ChangeEvent<HTMLInputElement>) => {
    const list = Array.from(e.target.files ?? [])
    e.target.value = ''
    if (list.length === 0) return
    if (!folder) { load(list[0].name, [list[0]]); return }
    // a folder: its top-level files, by name
    const top = list.filter((f) => f.webkitRelativePath.split('/').length === 2 && HF_FOLDER_FILES.includes(f.name))
    load(list[0].webkitRelativePath.split('/')[0], top)
  }
  const drop = (e: React.DragEvent) => {
    e.preventDefault()
    droppedFiles(e).then((d) => { if (d) load(d.name, d.files) }, unreadable)
  }
  return (
    <section aria-label="Base model" className="panel base-model" onDragOver={(e) => e.preventDefault()} onDrop={drop}>
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
      <div className="buttons">
        <button onClick={() => fileRef.current?.click()} title="a grpo-lab .safetensors, or a .zip of a Hugging Face gpt2 folder">Load model file</button>
        <button onClick={() => folderRef.current?.click()} title="a Hugging Face gpt2 folder with a character tokenizer (as Export for Hugging Face writes)">Load model folder</button>
        <input ref={fileRef} type="file" accept=".safetensors,.zip" hidden aria-label="Base model file" onChange={chosen(false)} />
        <input ref={folderRef} type="file" hidden aria-label="Base model folder" onChange={chosen(true)}
          {...{ webkitdirectory: '' } as Record<string, string>} />
      </div>
      <p className="hint">Or drop a model file or folder here.</p>
      {!stepsOk && <p role="alert" className="knob-problem">Pretrain steps: allowed an integer from 1 to 100000.</p>}
      {note && <p className="hint" role="status">{note}</p>}
    </section>
  )
}
