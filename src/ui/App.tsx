// The lab page: controls on the left, the run on the right (curves, traces, the worksheet).
import { lazy, Suspense, useEffect } from 'react'
import { adapterLabel } from '../engine/backend'
import { useLab } from '../store/labStore'
import { followLinkReplays } from '../store/replayStore'
import { Alerts } from './Alerts'
import { Charts } from './charts/Charts'
import { BaseModelPanel } from './controls/BaseModelPanel'
import { ConfigPanel } from './controls/ConfigPanel'
import { ExportPanel } from './controls/ExportPanel'
import { LinkBuilder } from './controls/LinkBuilder'
import { LessonSlot } from './lesson/LessonSlot'
import { RunControls } from './controls/RunControls'
import { SharePanel } from './controls/SharePanel'
import { ProgressBars } from './ProgressBars'
import { ReplayPanel } from './ReplayPanel'
import { Summary } from './Summary'
import { TabPause } from './TabPause'
import { TraceViewer } from './traces/TraceViewer'

// KaTeX and the CPU twin behind the worksheet load after the page is usable
const Worksheet = lazy(() => import('./worksheet/Worksheet').then((m) => ({ default: m.Worksheet })))

export function App() {
  const adapter = useLab((s) => s.adapter)
  const runName = useLab((s) => s.run?.name)
  const source = useLab((s) => s.run?.source)
  const runId = useLab((s) => s.run?.id)
  // a link's replay is fetched at once, beside the engine's start (it never waits for it)
  useEffect(() => { useLab.getState().connect(); followLinkReplays() }, [])
  return (
    <main>
      <header>
        <div>
          <h1>grpo-lab</h1>
          <p className="tagline">Train a tiny language model with GRPO — the RL behind DeepSeek-R1-Zero — on your own GPU, in this page.</p>
        </div>
        <p role="status" aria-label="Adapter" className="adapter">{adapter ? adapterLabel(adapter) : 'Looking for a WebGPU adapter…'}</p>
      </header>
      <Alerts />
      <TabPause />
      <LessonSlot />
      <ReplayPanel />
      {/* a replay on a narrow screen: its run first, the controls below (src/ui/style.css) */}
      <div className={source === 'replay' ? 'layout replaying' : 'layout'}>
        <aside>
          <RunControls />
          <BaseModelPanel />
          <ConfigPanel />
          <SharePanel />
          <LinkBuilder />
          <ExportPanel />
        </aside>
        <div className="run">
          <ProgressBars />
          {runName
            ? <p className="run-name" data-run-id={runId}>Run: <b>{runName}</b>{source !== 'live' && <span className="hint"> ({source})</span>}</p>
            : <p className="intro">Press <b>Start</b>. Each step the model writes G answers to each prompt, rules score them
              (right answer, right format), and GRPO makes the better-than-their-group answers likelier. Watch reward and
              accuracy climb in the curves, read the model’s answers in the traces, and follow one group through the
              formulas in the worksheet.</p>}
          <Summary />
          <Charts />
          <TraceViewer />
          <Suspense fallback={<p className="hint">Loading the worksheet…</p>}><Worksheet /></Suspense>
        </div>
      </div>
    </main>
  )
}
