// Where the lesson panel goes in the page: nothing without `lesson=<id>` in the link; with one,
// the panel (and KaTeX) load after the lab is usable.
import { lazy, Suspense } from 'react'
import { useLab } from '../../store/labStore'

const LessonPanel = lazy(() => import('./LessonPanel').then((m) => ({ default: m.LessonPanel })))

export function LessonSlot() {
  const id = useLab((s) => s.lessonId)
  if (!id) return null
  return (
    <Suspense fallback={<section aria-label="Lesson" className="panel lesson-panel"><p className="hint">Loading the lesson…</p></section>}>
      <LessonPanel />
    </Suspense>
  )
}
