// The teacher link builder's pieces that are not UI: the list of lessons (public/lessons/index.json,
// written by hand, so read as untrusted input) and the link the builder's choices make.
import { parseUntrustedJson } from '../model/untrustedJson'
import type { RunConfig } from '../rl/config'
import { encodeLink, LESSON_ID } from './link'

export interface LessonEntry { id: string; title: string }

/** What a lesson list may look like: `[{ "id": "…", "title": "…" }, …]`, or `{ "lessons": [that] }`; an entry may be just its id. */
export const LESSON_INDEX_SHAPE = 'a JSON list of {"id", "title"} (or of ids), or {"lessons": that list}'

const MAX_LESSONS = 200

/** The lessons a link can open, or why the list cannot be read (a sentence naming what is wrong). */
export function parseLessonIndex(text: string): { lessons: LessonEntry[] } | { error: string } {
  const parsed = parseUntrustedJson(text, { maxChars: 200_000, maxDepth: 4, maxMembers: 1000 })
  if ('error' in parsed) return { error: `not JSON this lab reads (${parsed.error}); expected ${LESSON_INDEX_SHAPE}` }
  const raw = parsed.value
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' && Array.isArray((raw as { lessons?: unknown }).lessons) ? (raw as { lessons: unknown[] }).lessons : null
  if (!list) return { error: `expected ${LESSON_INDEX_SHAPE}` }
  if (list.length > MAX_LESSONS) return { error: `${list.length} lessons; allowed: at most ${MAX_LESSONS}` }
  const lessons: LessonEntry[] = []
  for (const [i, e] of list.entries()) {
    const id = typeof e === 'string' ? e : e && typeof e === 'object' ? (e as { id?: unknown }).id : undefined
    const title = e && typeof e === 'object' ? (e as { title?: unknown }).title : undefined
    if (typeof id !== 'string' || !LESSON_ID.test(id)) {
      return { error: `entry ${i}: id ${JSON.stringify(id)?.slice(0, 50)}; allowed: a lesson id (lower-case letters, digits and dashes, at most 40)` }
    }
    if (title !== undefined && (typeof title !== 'string' || title.length > 200)) return { error: `entry ${i} (${id}): title must be text of at most 200 characters` }
    if (lessons.some((l) => l.id === id)) return { error: `entry ${i}: the id ${id} is listed twice` }
    lessons.push({ id, title: typeof title === 'string' && title.trim() ? title.trim() : id })
  }
  return { lessons }
}

export interface BuilderChoices {
  hidden: readonly string[]
  autostart: boolean
  /** a lesson id, or '' for none */
  lesson: string
  replay: boolean
}

/** Why a typed lesson id cannot go into a link; null when it can (or is empty: no lesson). */
export function lessonIdProblem(id: string): string | null {
  return id === '' || LESSON_ID.test(id) ? null : `"${id.slice(0, 40)}" is not a lesson id; allowed: lower-case letters, digits and dashes, at most 40, starting with a letter or digit`
}

/** The page's address (without its fragment) with the builder's link: a bad lesson id is left out, never written. */
export function builderLink(pageUrl: string, config: RunConfig, c: BuilderChoices): string {
  const lesson = c.lesson && !lessonIdProblem(c.lesson) ? c.lesson : null
  return pageUrl.replace(/#.*$/, '') + encodeLink(config, c.hidden, c.autostart, { lesson, replay: c.replay })
}
