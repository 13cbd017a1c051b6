// A lesson page's actions, run in order against the lab's store — the same store actions the
// page's own controls call (RunControls, ConfigPanel, the worksheet's and trace viewer's pickers).
// Each action waits for what it started (a step landing, a pause taking hold) so that the next
// one sees its result; leaving the page cancels the rest.
import type { LessonAction } from './lesson'
import { firstMixedGroup } from './lesson'
import { type LabState, useLab } from '../store/labStore'

export interface RunContext {
  /** false once the student has left the page: stop after the action in flight */
  current(): boolean
  /** what the page is doing now (null: done), for the panel's status line */
  status(text: string | null): void
  /** something an action could not do, said in the panel (the lesson goes on) */
  problem(text: string): void
}

const lastStep = (s: LabState) => s.run?.metrics.at(-1)?.step ?? 0
/** The controls' configuration is the shown run's (else a page's set or preset changed it: the
 *  next Step or Start begins a new run with it, and the run before stays drawn dashed) */
const sameRun = (s: LabState) => !!s.run && JSON.stringify(s.run.config) === JSON.stringify(s.config)

/** Resolves true once `ok` holds for the store, false if the page is left first. */
function until(ctx: RunContext, ok: (s: LabState) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const check = (s: LabState) => {
      if (!ctx.current()) { stop(); resolve(false) } else if (ok(s)) { stop(); resolve(true) }
    }
    // a store change, or every half second (the student leaving the page changes no store value)
    const unsubscribe = useLab.subscribe(check)
    const timer = setInterval(() => check(useLab.getState()), 500)
    const stop = () => { unsubscribe(); clearInterval(timer) }
    check(useLab.getState())
  })
}

const ready = (ctx: RunContext) => until(ctx, (s) => s.runState !== 'loading')

/** One GRPO step, as the Step button does it: of the paused run, else (or when the page changed
 *  the configuration) of a new run. */
async function stepOnce(ctx: RunContext): Promise<boolean> {
  if (!(await ready(ctx))) return false
  let s = useLab.getState()
  if (s.runState === 'running' && sameRun(s)) {
    s.pauseOrResume()
    if (!(await until(ctx, (x) => x.runState === 'paused'))) return false
    s = useLab.getState()
  }
  if (s.runState === 'paused' && s.run && sameRun(s)) {
    const id = s.run.id
    const target = lastStep(s) + 1
    s.step()
    return until(ctx, (x) => x.run?.id !== id || lastStep(x) >= target)
  }
  const before = s.run?.id
  s.start({ paused: true, stepOnce: true })
  const run = useLab.getState().run
  if (!run || run.id === before) { ctx.problem('The run could not start (the lab says why above).'); return false }
  // 'paused' too: the next Step must find the run paused, not start another (a run that fails to
  // start, e.g. its base model, says so in the lab's alerts; the page waits until it is left)
  return until(ctx, (x) => x.run?.id !== run.id || (lastStep(x) >= 1 && x.runState === 'paused'))
}

function reveal(label: string): void {
  // the panel stays in view beside the lab (sticky); only what it points at scrolls
  const el = document.querySelector(`[aria-label="${CSS.escape(label)}"]`)
  el?.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' })
}

async function runAction(a: LessonAction, ctx: RunContext): Promise<void> {
  const lab = useLab.getState()
  if ('set' in a) {
    for (const p of lab.setConfig(a.set)) ctx.problem(`This page's setting was refused: ${p.message}`)
  } else if ('preset' in a) {
    lab.choosePreset(a.preset)
  } else if ('press' in a) {
    switch (a.press) {
      case 'step':
        for (let k = 1; k <= a.times && ctx.current(); k++) {
          ctx.status(a.times > 1 ? `Step ${k} of ${a.times}…` : 'Taking a GRPO step…')
          if (!(await stepOnce(ctx))) return
        }
        break
      case 'start': {
        if (!(await ready(ctx))) return
        const s = useLab.getState()
        if (!sameRun(s) || s.runState === 'idle' || s.runState === 'done') s.start()
        else if (s.runState === 'paused') s.pauseOrResume()
        break
      }
      case 'pause': {
        if (useLab.getState().runState !== 'running') return
        ctx.status('Pausing after the step in flight…')
        useLab.getState().pauseOrResume()
        await until(ctx, (x) => x.runState !== 'running')
        break
      }
      case 'reset':
        if (!(await ready(ctx))) return
        useLab.getState().reset()
        await until(ctx, (x) => x.runState === 'idle' || x.runState === 'done')
        break
    }
  } else if ('worksheet' in a) {
    const w = a.worksheet
    if (w === 'first-mixed') {
      const trace = lab.run?.traces.at(-1)
      lab.setWorksheetSource({ kind: 'group', index: trace ? firstMixedGroup(trace.groups) : 0 })
    } else if ('group' in w) lab.setWorksheetSource({ kind: 'group', index: w.group - 1 })
    else lab.setWorksheetSource({ kind: 'typed', text: JSON.stringify(w.typed, null, 1) })
    reveal('GRPO worksheet')
  } else if ('trace' in a) {
    if (a.trace === 'latest') lab.setTraceIndex(null)
    else {
      const index = lab.run?.metrics.findIndex((m) => m.step === a.trace) ?? -1
      if (index < 0) ctx.problem(`This page shows step ${a.trace}'s trace, and the run has no step ${a.trace} yet.`)
      else lab.setTraceIndex(index)
    }
    reveal('Traces')
  } else if ('highlight' in a) {
    lab.setHighlight(a.highlight)
    if (a.highlight) reveal(a.highlight)
  }
}

/** Run a page's actions in order; the highlight of the page before is cleared first. */
export async function runPage(actions: LessonAction[], ctx: RunContext): Promise<void> {
  useLab.getState().setHighlight(null)
  try {
    for (const a of actions) {
      if (!ctx.current()) return
      await runAction(a, ctx)
    }
  } finally {
    if (ctx.current()) ctx.status(null)
  }
}
