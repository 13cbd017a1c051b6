// "Open a lesson file": a .grpo-lesson.zip that "Download for offline use" wrote, opened from this
// computer: its lesson, base models and replays come from the file, nothing from the network.
// The checks are the store's (openLessonFile); a bad file is said in the page's alerts.
import { useRef } from 'react'
import { useLab } from '../../store/labStore'

/** A lesson file holds a few base models of about 0.5 MB and replays of a few hundred kB. */
const MAX_LESSON_FILE_BYTES = 256 * 2 ** 20

export function OpenLessonFile() {
  const ref = useRef<HTMLInputElement>(null)
  const chosen = async (e: React.ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0]
    e.target.value = ''
    if (!f) return
    const lab = useLab.getState()
    if (f.size > MAX_LESSON_FILE_BYTES) {
      lab.alert(`${f.name} is ${(f.size / 2 ** 20).toFixed(0)} MiB; lesson files up to ${MAX_LESSON_FILE_BYTES / 2 ** 20} MiB can be opened. Nothing was changed.`)
      return
    }
    let bytes: Uint8Array
    try { bytes = new Uint8Array(await f.arrayBuffer()) } catch (err) {
      lab.alert(`${f.name} could not be read from this computer (${(err as Error).message}). Nothing was changed.`)
      return
    }
    await lab.openLessonFile(bytes, f.name)
  }
  return (
    <>
      <button onClick={() => ref.current?.click()}
        title="a .grpo-lesson.zip written by “Download for offline use”: the lesson, its base models and replays, opened without the network">Open a lesson file</button>
      <input ref={ref} type="file" accept=".zip,application/zip" hidden aria-label="Lesson file" onChange={(e) => void chosen(e)} />
    </>
  )
}
