// The teacher link builder: a lesson link from the configuration in the controls, with what the
// link hides (every config key, by topic, and every panel), whether it starts the run, the lesson
// it opens and whether it plays the recorded run or trains live; the link to copy and a QR code
// for a projector. The choices are the builder's own: building a link hides nothing on this page.
import qrcode from 'qrcode-generator'
import { useEffect, useMemo, useState } from 'react'
import { HIDEABLE_PANELS } from '../../lab/link'
import { builderLink, lessonIdProblem, type LessonEntry, parseLessonIndex } from '../../lab/linkBuilder'
import { RUN_CONFIG_SPEC, type RunConfig } from '../../rl/config'
import { useLab } from '../../store/labStore'
import { GROUPS } from './ConfigPanel'

const PANEL_NAMES: Record<(typeof HIDEABLE_PANELS)[number], string> = {
  preset: 'preset picker', knobs: 'all knobs', worksheet: 'worksheet', traces: 'traces', charts: 'charts', export: 'export / import',
}

/** Every key by topic as the configuration panel shows them, and any key no topic lists. */
const KEY_GROUPS: { title: string; keys: string[] }[] = (() => {
  const listed = new Set<string>(GROUPS.flatMap((g) => g.keys))
  const rest = (Object.keys(RUN_CONFIG_SPEC) as (keyof RunConfig)[]).filter((k) => !listed.has(k))
  return [...GROUPS.map((g) => ({ title: g.title, keys: g.keys as string[] })), ...(rest.length ? [{ title: 'Other', keys: rest }] : [])]
})()

/** The order a link lists what it hides: panels, then keys as the panel shows them (a link does not change with the order of clicks). */
const HIDE_ORDER = [...HIDEABLE_PANELS, ...KEY_GROUPS.flatMap((g) => g.keys)]
const ordered = (set: Set<string>) => HIDE_ORDER.filter((h) => set.has(h))

type LessonList = { lessons: LessonEntry[] } | { error: string }

/** public/lessons/index.json, next to the page; a missing or malformed list is an error to show, not a failure. */
async function fetchLessons(): Promise<LessonList> {
  try {
    const res = await fetch(new URL('lessons/index.json', location.href.replace(/#.*$/, '')))
    if (!res.ok) return { error: `lessons/index.json: HTTP ${res.status}` }
    // a server that answers every unknown path with the page itself (a single-page fallback)
    if (res.headers.get('content-type')?.includes('text/html')) return { error: 'lessons/index.json is not on this site (the server sent a web page)' }
    const read = parseLessonIndex(await res.text())
    return 'error' in read ? { error: `lessons/index.json: ${read.error}` } : read
  } catch (e) {
    return { error: `lessons/index.json could not be fetched (${(e as Error).message})` }
  }
}

/** The link as a QR code: an SVG path of its dark modules, a quiet zone of 4 around; null: too long for one. */
function qrOf(text: string): { size: number; path: string } | null {
  try {
    const qr = qrcode(0, 'M')
    qr.addData(text)
    qr.make()
    const n = qr.getModuleCount()
    let path = ''
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) path += `M${c},${r}h1v1h-1z`
    return { size: n, path }
  } catch {
    return null
  }
}

function QrCode({ text, large, onClick }: { text: string; large?: boolean; onClick: () => void }) {
  const qr = useMemo(() => qrOf(text), [text])
  if (!qr) return <p className="note" role="note">This link is too long for a QR code ({text.length} characters): hide fewer controls, or share it as text.</p>
  return (
    <svg role="img" aria-label={large ? 'QR code of the link, large' : 'QR code of the link'} className={large ? 'qr large' : 'qr'} onClick={onClick}
      viewBox={`-4 -4 ${qr.size + 8} ${qr.size + 8}`} shapeRendering="crispEdges" data-modules={qr.size} data-link={text}>
      <rect x={-4} y={-4} width={qr.size + 8} height={qr.size + 8} fill="white" />
      <path d={qr.path} fill="black" />
    </svg>
  )
}

export function LinkBuilder() {
  const config = useLab((s) => s.config)
  const [hidden, setHidden] = useState<Set<string>>(() => new Set(useLab.getState().hidden))
  const [autostart, setAutostart] = useState(true)
  const [lesson, setLesson] = useState(() => useLab.getState().lessonId ?? '')
  const [replay, setReplay] = useState(() => useLab.getState().replayWanted)
  const [lessons, setLessons] = useState<LessonList | null>(null)
  const [open, setOpen] = useState(false)
  const [large, setLarge] = useState(false)
  const [copied, setCopied] = useState<string | null>(null)
  // the lesson list is read when the builder is opened, not with every page
  useEffect(() => { if (open && !lessons) void fetchLessons().then(setLessons) }, [open, lessons])
  useEffect(() => {
    if (!large) return
    const close = (e: KeyboardEvent) => { if (e.key === 'Escape') setLarge(false) }
    addEventListener('keydown', close)
    return () => removeEventListener('keydown', close)
  }, [large])
  const link = builderLink(location.href, config, { hidden: ordered(hidden), autostart, lesson, replay })
  const lessonProblem = lessonIdProblem(lesson)
  const toggle = (keys: string[], on: boolean) => setHidden((h) => {
    const next = new Set(h)
    for (const k of keys) if (on) next.add(k); else next.delete(k)
    return next
  })
  const copy = async () => {
    try { await navigator.clipboard.writeText(link); setCopied('Link copied.') } catch { setCopied('The browser refused the clipboard: copy the link from the box.') }
  }
  const box = (what: string, label: string) => (
    <label key={what}><input type="checkbox" checked={hidden.has(what)} onChange={(e) => toggle([what], e.target.checked)} aria-label={`Link hides ${what}`} /> {label}</label>
  )
  return (
    <section aria-label="Link builder" className="panel link-builder">
      <details open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
        <summary>Teacher link builder</summary>
        <p className="hint">A link with this configuration for a class: what it hides, whether it starts, the lesson it opens. This page stays as it is.</p>
        <fieldset>
          <legend>Lesson</legend>
          {lessons && 'lessons' in lessons ? (
            <select aria-label="Lesson" value={lesson} onChange={(e) => setLesson(e.target.value)}>
              <option value="">(no lesson)</option>
              {lesson && !lessons.lessons.some((l) => l.id === lesson) && <option value={lesson}>{lesson}</option>}
              {lessons.lessons.map((l) => <option key={l.id} value={l.id}>{l.title}</option>)}
            </select>
          ) : (
            <>
              <input aria-label="Lesson id" value={lesson} placeholder="a lesson id, e.g. kl-penalty" aria-invalid={!!lessonProblem}
                onChange={(e) => setLesson(e.target.value.trim())} />
              <p className="hint" role="note">{lessons ? `No lesson list could be read (${lessons.error}): type a lesson id, or leave it empty.` : 'Reading the list of lessons…'}</p>
              {lessonProblem && <p className="note" role="alert">{lessonProblem}; it is left out of the link.</p>}
            </>
          )}
          <div role="radiogroup" aria-label="Replay or live">
            <label><input type="radio" name="builder-replay" checked={!replay} onChange={() => setReplay(false)} aria-label="Train live" /> train live</label>{' '}
            <label><input type="radio" name="builder-replay" checked={replay} onChange={() => setReplay(true)} aria-label="Play the recorded run" /> play the recorded run (replay)</label>
          </div>
          <label><input type="checkbox" checked={autostart} onChange={(e) => setAutostart(e.target.checked)} aria-label="Link starts the run" /> start the run when the link opens</label>
        </fieldset>
        <fieldset>
          <legend>Hide panels</legend>
          <div className="hide-keys">{HIDEABLE_PANELS.map((p) => box(p, PANEL_NAMES[p]))}</div>
        </fieldset>
        {KEY_GROUPS.map((g) => {
          const n = g.keys.filter((k) => hidden.has(k)).length
          return (
            <details key={g.title}>
              <summary>Hide knobs: {g.title} <span className="hint">({n} of {g.keys.length} hidden)</span></summary>
              <label><input type="checkbox" checked={n === g.keys.length} onChange={(e) => toggle(g.keys, e.target.checked)} aria-label={`Link hides every knob of ${g.title}`} /> all of them</label>
              <div className="hide-keys">{g.keys.map((k) => box(k, k))}</div>
            </details>
          )
        })}
        <div className="share-row">
          <input aria-label="Lesson link" readOnly value={link} onFocus={(e) => e.target.select()} />
          <button onClick={() => void copy()}>Copy lesson link</button>
        </div>
        {copied && <p className="hint" role="status">{copied}</p>}
        <p><a href={link} target="_blank" rel="noopener noreferrer">Open the lesson link in a new tab</a></p>
        {open && <QrCode text={link} onClick={() => setLarge(true)} />}
        <button onClick={() => setLarge(true)}>Show the QR code large</button>
        {large && (
          <div className="qr-overlay" role="dialog" aria-label="QR code for the projector" onClick={() => setLarge(false)}>
            <QrCode text={link} large onClick={() => setLarge(false)} />
            <p className="hint">Click or press Escape to close.</p>
          </div>
        )}
      </details>
    </section>
  )
}
