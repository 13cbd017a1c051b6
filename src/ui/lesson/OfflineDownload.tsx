// "Download for offline use": the open lesson as one .zip (src/lab/bundle.ts) with the replays of
// the presets it uses and the base models its runs start from, for a classroom without a network.
// A replay this site does not have yet (replays/<preset id>.json answers 404) is left out and
// said; a base model that cannot be fetched stops the download (the lesson would not train).
import { useState } from 'react'
import { packBundle } from '../../lab/bundle'
import { lessonFileName, lessonNeeds } from '../../lab/lessonBundle'
import { MAX_BUNDLE_ENTRY_BYTES } from '../../lab/bundle'
import { readCapped } from '../../lab/modelSource'
import type { Lesson } from '../../lessons/lesson'
import { download, useLab } from '../../store/labStore'

const siteUrl = (path: string) => new URL(`${import.meta.env.BASE_URL}${path}`, location.href).href

/** A preset's replay text, or why there is none. */
async function fetchReplay(id: string): Promise<{ text: string } | { missing: string }> {
  const path = `replays/${id}.json`
  const bundled = useLab.getState().bundleReplays
  if (Object.hasOwn(bundled, id)) return { text: bundled[id] }
  let res: Response
  try { res = await fetch(siteUrl(path)) } catch (e) { return { missing: `${path} could not be fetched (${(e as Error).message})` } }
  if (!res.ok) return { missing: `${path} is not on this site (HTTP ${res.status})` }
  const text = await res.text()
  // a static host may answer a missing file with its own page
  if (text.trimStart().startsWith('<')) return { missing: `${path} is not on this site (the server answered with an HTML page)` }
  if (text.length > MAX_BUNDLE_ENTRY_BYTES) return { missing: `${path} is larger than a lesson file may hold` }
  return { text }
}

/** A shipped base model's bytes: the opened lesson file's, else models/<name>.safetensors. */
async function fetchModel(name: string): Promise<Uint8Array> {
  const bundled = useLab.getState().bundleModels
  if (Object.hasOwn(bundled, name)) return bundled[name]
  const path = `models/${name}.safetensors`
  let res: Response
  try { res = await fetch(siteUrl(path)) } catch (e) { throw new Error(`base model ${path} could not be fetched (${(e as Error).message})`) }
  if (!res.ok) throw new Error(`base model ${path} could not be fetched (HTTP ${res.status})`)
  try { return await readCapped(res, () => {}) } catch (e) { throw new Error(`base model ${path}: ${(e as Error).message}`) }
}

const size = (bytes: number) => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(2)} MB` : `${Math.ceil(bytes / 1024)} kB`)
const list = (xs: string[]) => xs.join(', ')

type Note = { kind: 'busy' } | { kind: 'saved'; text: string; missing: string[] } | { kind: 'error'; text: string }

export function OfflineDownload({ lesson, text }: { lesson: Lesson; text: string }) {
  const [note, setNote] = useState<Note | null>(null)
  const save = async () => {
    setNote({ kind: 'busy' })
    try {
      const needs = lessonNeeds(lesson)
      const replays = new Map<string, string>()
      const missing: string[] = []
      for (const id of needs.presets) {
        const r = await fetchReplay(id)
        if ('text' in r) replays.set(id, r.text)
        else missing.push(r.missing)
      }
      const models = new Map<string, Uint8Array>()
      for (const name of needs.models) models.set(name, await fetchModel(name))
      const bytes = packBundle({ lessonId: lesson.id, lesson: text, replays, models })
      const name = lessonFileName(lesson.id)
      download(name, bytes as BlobPart, 'application/zip')
      const parts = [
        'the lesson',
        models.size ? `base model${models.size > 1 ? 's' : ''} ${list([...models.keys()])}` : 'no base model (its runs start from fresh weights)',
        replays.size ? `replay${replays.size > 1 ? 's' : ''} of ${list([...replays.keys()])}` : 'no replay',
      ]
      setNote({ kind: 'saved', text: `Saved ${name} (${size(bytes.length)}): ${list(parts)}. Open it with “Open a lesson file” on a page of this lab; nothing is fetched then.`, missing })
    } catch (e) {
      setNote({ kind: 'error', text: `The lesson file was not made: ${(e as Error).message}.` })
    }
  }
  return (
    <div className="lesson-offline">
      <button onClick={() => void save()} disabled={note?.kind === 'busy'}
        title="this lesson, the replays of its presets and its base models as one .zip: open it later without a network">Download for offline use</button>
      <div role="status" aria-label="Offline lesson file" className="hint">
        {note?.kind === 'busy' && 'Packing the lesson file…'}
        {note?.kind === 'saved' && <>
          <p>{note.text}</p>
          {note.missing.length > 0 && <p>No replay yet for: {list(note.missing)}. The file opens without {note.missing.length > 1 ? 'them' : 'it'}; the lesson trains live.</p>}
        </>}
      </div>
      {note?.kind === 'error' && <p role="alert" className="error">{note.text}</p>}
    </div>
  )
}
