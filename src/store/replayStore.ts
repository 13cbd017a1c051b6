// The replay player: a recorded run (src/lab/replay.ts, fetched from public/replays/<preset>.json, or
// from an opened offline lesson file: useLab's bundleReplays)
// shown as the lab's run (source 'replay') and played step by step at a chosen speed, with no
// model and no worker: it never waits for the engine's `ready`, so it plays on a phone, without
// WebGPU, or while a live engine warms up. "Run it live" starts a live run of the same config.
// A store of its own beside useLab: it writes the run it shows into useLab, and stops as soon as
// another run (a live one, an import) takes the page.
import { create } from 'zustand'
import { presetById } from '../lab/presets'
import { parseReplay, type Replay, replayLogprobs, replayUrl, SHIPPED_REPLAYS } from '../lab/replay'
import type { RunView } from './labStore'
import { useLab } from './labStore'

export const REPLAY_SPEEDS = [
  { label: '1 step / second', stepsPerSecond: 1 },
  { label: '3 steps / second', stepsPerSecond: 3 },
  { label: '10 steps / second', stepsPerSecond: 10 },
  { label: '30 steps / second', stepsPerSecond: 30 },
  { label: 'All at once', stepsPerSecond: Infinity },
] as const

export interface ReplayState {
  /** the replay shown (null: none) */
  replay: Replay | null
  /** recorded steps on screen (0 … replay.steps) */
  shown: number
  playing: boolean
  stepsPerSecond: number
  /** a fetch under way: the preset it is for */
  loading: string | null
  /** fetch and show the replay of a preset; says so when there is none */
  load(presetId: string | null, opts?: { play?: boolean }): Promise<boolean>
  play(): void
  pause(): void
  /** one recorded step more, then pause */
  step(): void
  setSpeed(stepsPerSecond: number): void
  /** a live run of the replay's config, on this page's backend */
  runLive(): void
}

const replayRunId = (r: Replay) => `replay-${r.preset}`
let timer: ReturnType<typeof setTimeout> | null = null
/** "Run it live" pressed while the engine is still loading: start once it is ready */
let liveWanted = false

/** Which replays exist, for the message when one is missing. */
const existing = () => SHIPPED_REPLAYS.map((id) => `${id} (${presetById(id)?.name ?? id})`).join(', ')

/** The replay's first `shown` steps as a run view: metrics, the kept traces and the evaluations up to there. */
function viewOf(r: Replay, shown: number): RunView {
  const last = shown ? r.run.metrics[shown - 1].step : 0
  return {
    id: replayRunId(r), name: `${presetById(r.preset)?.name ?? r.preset}, recorded`, config: r.run.config, source: 'replay',
    metrics: r.run.metrics.slice(0, shown), traces: r.run.traces.filter((t) => t.step <= last), evals: r.run.evals.filter((e) => e.step <= last),
  }
}

export const useReplay = create<ReplayState>((set, get) => {
  /** the replay still owns the page's run (no live run or import took it) */
  const owns = () => { const r = get().replay; return r !== null && useLab.getState().run?.id === replayRunId(r) }

  function show(shown: number): void {
    const r = get().replay
    if (!r) return
    set({ shown })
    useLab.setState({ run: viewOf(r, shown) })
  }

  function stopTimer(): void { if (timer) { clearTimeout(timer); timer = null } }

  function tick(): void {
    timer = null
    const { replay, shown, playing, stepsPerSecond } = get()
    if (!replay || !playing) return
    if (!owns()) { set({ playing: false }); return }
    // at 30 steps a second and more, several steps a frame; "all at once" in one go
    const next = stepsPerSecond === Infinity ? replay.steps : Math.min(replay.steps, shown + Math.max(1, Math.round(stepsPerSecond / 30)))
    show(next)
    if (next >= replay.steps) { set({ playing: false }); return }
    timer = setTimeout(tick, 1000 * (next - shown) / stepsPerSecond)
  }

  return {
    replay: null,
    shown: 0,
    playing: false,
    stepsPerSecond: 10,
    loading: null,

    async load(presetId, opts = {}) {
      const lab = useLab.getState()
      if (!presetId) {
        lab.alert(`This link asks for a replay (replay=1), but its settings are not those of a preset with a recorded run. ` +
          `Replays exist for: ${existing()}. Nothing else changes: press Start to train these settings live.`)
        return false
      }
      set({ loading: presetId })
      let replay: Replay
      try {
        // an opened offline lesson file's replay first: it plays with no network
        const bundled = lab.bundleReplays
        let text: string
        if (Object.hasOwn(bundled, presetId)) text = bundled[presetId]
        else {
          const res = await fetch(replayUrl(presetId, import.meta.env.BASE_URL))
          if (res.status === 404) throw new Error('none is shipped')
          if (!res.ok) throw new Error(`HTTP ${res.status}`)
          text = await res.text()
        }
        replay = parseReplay(text)
        if (replay.preset !== presetId) throw new Error(`the file is the replay of ${replay.preset}`)
      } catch (e) {
        set({ loading: null })
        // a dev server answers a missing file with the page itself: that is "none" too
        const why = e instanceof SyntaxError || /not valid JSON/.test((e as Error).message) ? 'none is shipped' : (e as Error).message
        lab.alert(`There is no replay of the preset ${presetId} to show (${why}). Replays exist for: ${existing()}. ` +
          'Press Start to train it live.')
        return false
      }
      if (get().loading !== presetId) return false // another load was asked meanwhile
      // the shown live run, if any, stops: the replay takes the page (as an import does)
      if (lab.runState === 'running' || lab.runState === 'paused') lab.send({ type: 'stop' })
      stopTimer()
      set({ replay, loading: null, shown: 0, playing: false })
      useLab.setState({ config: replay.run.config, presetId: replay.preset, resumable: null, traceIndex: null })
      show(0)
      if (opts.play ?? true) get().play()
      return true
    },

    play() {
      const r = get().replay
      if (!r || !owns()) return
      if (get().shown >= r.steps) show(0) // from the start again
      set({ playing: true })
      stopTimer()
      tick()
    },

    pause() { stopTimer(); set({ playing: false }) },

    step() {
      const r = get().replay
      stopTimer()
      set({ playing: false })
      if (r && owns() && get().shown < r.steps) show(get().shown + 1)
    },

    setSpeed(stepsPerSecond) {
      set({ stepsPerSecond })
      if (get().playing) { stopTimer(); tick() }
    },

    runLive() {
      const r = get().replay
      if (!r) return
      get().pause()
      // a live run of the recorded config; the address stops asking for the replay
      useLab.setState({ config: r.run.config, presetId: r.preset, replayWanted: false })
      if (useLab.getState().runState === 'loading') { liveWanted = true; return }
      useLab.getState().start()
    },
  }
})

/** Once the engine is ready, the live run "Run it live" asked for while it was loading; and a live
 *  run that replaced the replay (Start) stops the address asking for the replay (a reload shows it). */
useLab.subscribe((s, prev) => {
  if (s.replayWanted && prev.run?.source === 'replay' && s.run?.source === 'live') useLab.setState({ replayWanted: false })
  if (liveWanted && prev.runState === 'loading' && s.runState !== 'loading') {
    liveWanted = false
    useLab.getState().start()
  }
})

/** The worksheet's recorded inputs for a group of the replay on screen, or null. */
export function recordedLogprobs(step: number, group: number): number[][] | null {
  const r = useReplay.getState().replay
  return r ? replayLogprobs(r, step, group) : null
}

/** The link's replay=1: load it now (never after the engine), and again when a new link asks for one. */
let following = false
export function followLinkReplays(): void {
  if (following) return // React's StrictMode runs effects twice
  following = true
  const want = () => { const s = useLab.getState(); if (s.replayWanted) void useReplay.getState().load(s.presetId) }
  want()
  addEventListener('hashchange', () => setTimeout(want, 0)) // after useLab has read the new link
}
