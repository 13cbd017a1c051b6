// A classroom guard: a run pauses when its tab is hidden (a projector switching tabs, a phone
// locking) and says so. It goes through the Pause button's path, so the worker finishes the step
// in flight and stores a snapshot before 'paused': no step is lost. It never resumes by itself:
// a teacher switching back should find the run where the class last saw it, not racing ahead.
import { useEffect, useState } from 'react'
import { useLab } from '../store/labStore'

export const HIDDEN_TAB_MESSAGE = 'Paused: the tab was hidden. Press Resume to go on.'

export function TabPause() {
  const runState = useLab((s) => s.runState)
  // 'pausing': asked, the step in flight still finishing; 'paused': the run is paused by this
  const [phase, setPhase] = useState<'pausing' | 'paused' | null>(null)
  const pauseIfHidden = () => {
    const lab = useLab.getState()
    if (document.visibilityState !== 'hidden' || lab.runState !== 'running') return
    setPhase('pausing')
    lab.pauseOrResume()
  }
  useEffect(() => {
    document.addEventListener('visibilitychange', pauseIfHidden)
    return () => document.removeEventListener('visibilitychange', pauseIfHidden)
  }, [])
  // a run that starts in a hidden tab (an autostart link opened in the background) pauses too
  useEffect(() => { if (runState === 'running' && phase === null) pauseIfHidden() }, [runState, phase])
  useEffect(() => {
    if (phase === 'pausing' && runState === 'paused') setPhase('paused')
    // Resume, Step, Reset, or the last step landing: the message has been answered
    else if ((phase === 'paused' && runState !== 'paused') || (phase === 'pausing' && runState !== 'running')) setPhase(null)
  }, [runState, phase])
  if (phase === null) return null
  return (
    <p role="status" aria-label="Paused because the tab was hidden" className="warning tab-pause">
      {HIDDEN_TAB_MESSAGE}{phase === 'pausing' ? ' (finishing the step under way…)' : ''}
    </p>
  )
}
