// The lesson beside the lab (`#…&lesson=<id>`): the lesson file fetched from this site's
// lessons/ folder and checked (parseLesson), one page at a time with Previous / Next, each page's
// actions run as it is entered, and its question checked against the live run. A missing or
// malformed lesson is said here, with the lessons there are; the lab works on regardless. A lesson
// opened from an offline lesson file (store.bundleLesson) is shown from the file, not fetched.
import 'katex/dist/katex.min.css'
import katex from 'katex'
import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from 'react'
import { encodeLink } from '../../lab/link'
import { checkAnswer, type Lesson, type LessonIndexEntry, type LessonPage, type LiveRun, parseLessonIndex, parseLessonText, type Verdict } from '../../lessons/lesson'
import { lessonPieces } from '../../lessons/lessonText'
import { runPage } from '../../lessons/runner'
import { useLab } from '../../store/labStore'
import { OfflineDownload } from './OfflineDownload'
import { OpenLessonFile } from './OpenLessonFile'

/** text: the lesson file as it was read (a download packs it unchanged) */
type Loaded = { id: string; lesson: Lesson; text: string; fromFile: boolean } | { id: string; error: string } | null

/** A file of this site's lessons/ folder (the id's shape forbids any other path). */
const lessonUrl = (name: string) => new URL(`${import.meta.env.BASE_URL}lessons/${name}.json`, location.href).href

async function fetchText(name: string): Promise<string> {
  let res: Response
  try { res = await fetch(lessonUrl(name)) } catch (e) { throw new Error(`it could not be fetched (${(e as Error).message})`) }
  if (!res.ok) throw new Error(`there is no lesson file lessons/${name}.json here (HTTP ${res.status})`)
  const text = await res.text()
  // a static host may answer a missing file with its own page
  if (text.trimStart().startsWith('<')) throw new Error(`there is no lesson file lessons/${name}.json here (the server answered with an HTML page)`)
  return text
}

async function loadLesson(id: string): Promise<{ lesson: Lesson; text: string }> {
  const text = await fetchText(id)
  try { return { lesson: parseLessonText(text, id), text } } catch (e) { throw new Error(`lessons/${id}.json is not a valid lesson — ${(e as Error).message}`) }
}

/** The lessons this site has (none when its index cannot be read). */
async function loadIndex(): Promise<LessonIndexEntry[]> {
  try { return parseLessonIndex(JSON.parse(await fetchText('index'))) } catch { return [] }
}

const lessonHref = (id: string) => `#v=1&lesson=${id}`

/** The same link without the lesson: the panel goes, the configuration and hidden controls stay. */
function closeLesson(): void {
  const s = useLab.getState()
  s.setHighlight(null)
  location.hash = encodeLink(s.config, s.hidden, false, { lesson: null, replay: s.replayWanted })
}

/** The run's numbers a question is checked against, read when the student answers. */
function liveRun(): LiveRun {
  const s = useLab.getState()
  const trace = s.run?.traces.at(-1)
  const src = s.worksheetSource
  const group = src.kind === 'group' && trace?.groups.length ? trace.groups[Math.min(src.index, trace.groups.length - 1)] : undefined
  return { metrics: s.run?.metrics.at(-1), advantages: group?.completions.map((c) => c.advantage) }
}

export function LessonPanel() {
  const id = useLab((s) => s.lessonId)
  const fromFile = useLab((s) => (s.bundleLesson?.lesson.id === id ? s.bundleLesson : null))
  const [loaded, setLoaded] = useState<Loaded>(null)
  const [index, setIndex] = useState<LessonIndexEntry[]>([])
  useEffect(() => {
    if (!id) return
    let current = true
    void loadIndex().then((list) => { if (current) setIndex(list) })
    if (fromFile) { setLoaded({ id, ...fromFile, fromFile: true }); return () => { current = false } }
    setLoaded(null)
    loadLesson(id).then((l) => { if (current) setLoaded({ id, ...l, fromFile: false }) }, (e: Error) => { if (current) setLoaded({ id, error: e.message }) })
    return () => { current = false }
  }, [id, fromFile])
  if (!id) return null
  return (
    <section aria-label="Lesson" className="panel lesson-panel">
      <button className="lesson-close" onClick={closeLesson} aria-label="Close lesson" title="close the lesson; the lab stays as it is">✕</button>
      {!loaded || loaded.id !== id ? <p className="hint">Loading lesson “{id}”…</p>
        : 'error' in loaded ? <LessonProblem id={id} error={loaded.error} index={index} />
          : <LessonPages key={`${id}-${loaded.fromFile}`} lesson={loaded.lesson} text={loaded.text} fromFile={loaded.fromFile} index={index} />}
    </section>
  )
}

function LessonList({ index, except }: { index: LessonIndexEntry[]; except?: string }) {
  const others = index.filter((e) => e.id !== except)
  if (others.length === 0) return null
  return (
    <ul className="lesson-list">
      {others.map((e) => <li key={e.id}><a href={lessonHref(e.id)}>{e.title}</a> <span className="hint">— {e.summary}</span></li>)}
    </ul>
  )
}

function LessonProblem({ id, error, index }: { id: string; error: string; index: LessonIndexEntry[] }) {
  return (
    <div role="alert" className="error lesson-problem">
      <p><b>The lesson “{id}” could not be opened:</b> {error}. The lab below works as usual.</p>
      {index.length > 0
        ? <><p>Lessons here:</p><LessonList index={index} /></>
        : <p>No list of lessons could be read from this site (lessons/index.json).</p>}
      <p>Without a network, open the lesson from a lesson file (“Download for offline use” writes one): <OpenLessonFile /></p>
    </div>
  )
}

function LessonPages({ lesson, text, fromFile, index }: { lesson: Lesson; text: string; fromFile: boolean; index: LessonIndexEntry[] }) {
  const [at, setAt] = useState(0)
  const [status, setStatus] = useState<string | null>(null)
  /** the page's actions are running */
  const [busy, setBusy] = useState(lesson.pages[0].actions.length > 0)
  const [problems, setProblems] = useState<string[]>([])
  const [passed, setPassed] = useState(false)
  const heading = useRef<HTMLHeadingElement>(null)
  const moved = useRef(false)
  // each entry of a page gets a number: an older page's actions stop at their next check
  const entry = useRef(0)
  // the actions of one page run after those of the page before have stopped (one step at a time)
  const chain = useRef<Promise<void>>(Promise.resolve())
  const page = lesson.pages[at]
  const last = at === lesson.pages.length - 1
  const gated = !!page.question && !passed

  const enter = (i: number, runActions: boolean) => {
    const mine = ++entry.current
    setAt(i)
    setPassed(false)
    setProblems([])
    setStatus(null)
    setBusy(false)
    if (!runActions || lesson.pages[i].actions.length === 0) return
    setBusy(true)
    const ctx = {
      current: () => entry.current === mine,
      status: (t: string | null) => { if (entry.current === mine) setStatus(t) },
      problem: (t: string) => { if (entry.current === mine) setProblems((p) => [...p, t]) },
    }
    chain.current = chain.current.then(() => runPage(lesson.pages[i].actions, ctx)).catch((e: Error) => ctx.problem(e.message))
      .finally(() => { if (entry.current === mine) setBusy(false) })
  }
  // the first page's actions run once the lesson opens; leaving the lesson stops them
  useEffect(() => {
    enter(0, true)
    return () => { entry.current++ }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])
  // a page turned by the student: the new page's title takes the focus (a screen reader reads it)
  useEffect(() => { if (moved.current) heading.current?.focus() }, [at])

  const go = (i: number, runActions: boolean) => { moved.current = true; enter(i, runActions) }
  const next = () => { if (!last && !gated) go(at + 1, true) }
  const previous = () => { if (at > 0) go(at - 1, false) }
  const keys = (e: KeyboardEvent) => {
    const t = e.target as HTMLElement
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || e.altKey || e.ctrlKey || e.metaKey) return
    if (e.key === 'ArrowRight') { e.preventDefault(); next() }
    if (e.key === 'ArrowLeft') { e.preventDefault(); previous() }
  }
  return (
    <div className="lesson" onKeyDown={keys} data-busy={busy}>
      <p className="lesson-title"><b>Lesson: {lesson.title}</b> <span className="hint" aria-label="Lesson page">page {at + 1} of {lesson.pages.length}</span></p>
      <h2 ref={heading} tabIndex={-1}>{page.title}</h2>
      <PageText page={page} />
      <p className="hint lesson-status" role="status" aria-label="Lesson status">{busy ? status ?? 'Setting up this page…' : ''}</p>
      {problems.map((p, i) => <p key={i} role="alert" className="error">{p}</p>)}
      {page.question && <Question key={`${at}-${entry.current}`} page={page} onPass={() => setPassed(true)} />}
      <div className="lesson-nav">
        <button onClick={previous} disabled={at === 0} aria-label="Previous page">◀ Previous</button>
        {page.actions.length > 0 && !busy && (
          <button onClick={() => enter(at, true)} title="run this page's steps again (set its knobs, press its buttons)">Do this page again</button>
        )}
        <button className="primary" onClick={next} disabled={last || gated} aria-label="Next page"
          aria-describedby={gated ? 'lesson-gate' : undefined}>Next ▶</button>
      </div>
      {/* Next waits for the answer: the pages after a question build on it, and every answer is on
          the page (a hint comes with a wrong one; after two wrong tries it may be skipped) */}
      {gated && !last && <p id="lesson-gate" className="hint">Answer the question to go on.</p>}
      {last && (!page.question || passed) && (
        <div className="note lesson-end"><b>End of the lesson.</b> {index.length > 1 && 'Other lessons:'}<LessonList index={index} except={lesson.id} /></div>
      )}
      {fromFile && <p className="hint" aria-label="Lesson source">Opened from a lesson file: its base models and replays come from the file.</p>}
      <OfflineDownload lesson={lesson} text={text} />
    </div>
  )
}

function Tex({ tex, display }: { tex: string; display: boolean }) {
  // a lesson's TeX (from this site's lessons/ folder) through KaTeX with trust off: no \href,
  // \url, \html… commands, and KaTeX escapes the text; sizes and macro expansion bounded
  const html = katex.renderToString(tex, { displayMode: display, throwOnError: false, trust: false, strict: 'ignore', output: 'html', maxSize: 20, maxExpand: 200 })
  return <span className={display ? 'lesson-tex display' : 'lesson-tex'} dangerouslySetInnerHTML={{ __html: html }} />
}

function PageText({ page }: { page: LessonPage }) {
  return (
    <div className="lesson-text">
      {page.text.map((para, i) => (
        <p key={i}>{lessonPieces(para).map((p, j) => {
          switch (p.kind) {
            case 'text': return <span key={j}>{p.text}</span>
            case 'code': return <code key={j}>{p.text}</code>
            case 'bold': return <b key={j}>{p.text}</b>
            case 'tex': return <Tex key={j} tex={p.tex} display={p.display} />
          }
        })}</p>
      ))}
    </div>
  )
}

function Question({ page, onPass }: { page: LessonPage; onPass: () => void }) {
  const q = page.question!
  const [typed, setTyped] = useState('')
  const [verdict, setVerdict] = useState<Verdict | null>(null)
  const [wrong, setWrong] = useState(0)
  const [skipped, setSkipped] = useState(false)
  const check = (e: FormEvent) => {
    e.preventDefault()
    if (typed === '') { setVerdict({ right: false, message: q.kind === 'choice' ? 'Choose an answer first.' : 'Type an answer first.' }); return }
    const v = checkAnswer(q, typed, liveRun())
    setVerdict(v)
    if (v.right) onPass()
    else setWrong((n) => n + 1)
  }
  const skip = () => { setSkipped(true); onPass() }
  return (
    <form className="lesson-question" aria-label="Question" onSubmit={check}>
      {q.kind === 'choice'
        ? (
          <fieldset>
            <legend>{q.prompt}</legend>
            {q.options.map((o, i) => (
              <label key={i} className="lesson-option">
                <input type="radio" name="lesson-choice" value={String(i + 1)} checked={typed === String(i + 1)} onChange={() => setTyped(String(i + 1))} /> {o}
              </label>
            ))}
          </fieldset>
        )
        : (
          <label className="lesson-answer">{q.prompt}{' '}
            <input value={typed} inputMode="decimal" size={10} autoComplete="off" onChange={(e) => setTyped(e.target.value)} />
          </label>
        )}
      <div className="buttons">
        <button type="submit" disabled={verdict?.right}>Check</button>
        {wrong >= 2 && !verdict?.right && !skipped && <button type="button" onClick={skip}>Skip this question</button>}
      </div>
      <p role="status" aria-label="Answer check" className={verdict ? (verdict.right ? 'lesson-verdict right' : 'lesson-verdict wrong') : 'lesson-verdict'}>
        {verdict?.message}{verdict && !verdict.right && q.hint ? ` Hint: ${q.hint}` : ''}{skipped ? ' Skipped: Next is open.' : ''}
      </p>
    </form>
  )
}
