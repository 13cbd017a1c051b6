// A lesson for offline use, as one .zip file: the lesson, the recorded runs (replays) it plays, and
// the base models it trains, so that a classroom without a network opens it again from the file.
// Layout inside the .zip:
//   bundle.json                      { format, version, lesson, replays: [ids], models: [names] }
//   lessons/<lesson id>.json         the lesson file, as public/lessons/ holds it
//   replays/<preset id>.json         each replay, as public/replays/ holds it
//   models/<name>.safetensors        each base model, as public/models/ holds it
// This module only packs and unpacks (a file is untrusted: every name, count and size is checked
// here); the lesson, replay and model parsers check what is inside each file.
import { strFromU8, strToU8, unzipSync, type Zippable, zipSync } from 'fflate'
import { LESSON_ID } from './link'

export const BUNDLE_FORMAT = 'grpo-lab/lesson-bundle'
export const BUNDLE_VERSION = 1
/** The largest file a bundle entry may unpack to: a base model of a few MB, a replay of a few hundred kB. */
export const MAX_BUNDLE_ENTRY_BYTES = 64 * 2 ** 20
/** Replays or models in one bundle: a lesson compares a handful of runs. */
export const MAX_BUNDLE_ITEMS = 16
/** Replay ids are preset ids; model names are public/models/ names: the same shape as a lesson id. */
const NAME = LESSON_ID

export interface LessonBundle {
  lessonId: string
  /** the lesson file's text (parsed and validated by the lesson panel) */
  lesson: string
  /** replay file texts by preset id */
  replays: Map<string, string>
  /** .safetensors bytes by model name */
  models: Map<string, Uint8Array>
}

export class BundleError extends Error {
  constructor(message: string) { super(`lesson file: ${message}`) }
}

const MANIFEST = 'bundle.json'
const lessonPath = (id: string) => `lessons/${id}.json`
const replayPath = (id: string) => `replays/${id}.json`
const modelPath = (name: string) => `models/${name}.safetensors`

function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new BundleError(`${what} ${JSON.stringify(String(name).slice(0, 40))} is not a name; allowed: lower-case letters, digits and dashes, at most 40`)
  }
  return name
}

/** The bundle as .zip bytes. */
export function packBundle(b: LessonBundle): Uint8Array {
  checkName('lesson', b.lessonId)
  for (const id of b.replays.keys()) checkName('replay', id)
  for (const name of b.models.keys()) checkName('model', name)
  const manifest = { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, lesson: b.lessonId, replays: [...b.replays.keys()], models: [...b.models.keys()] }
  const files: Zippable = {
    [MANIFEST]: strToU8(JSON.stringify(manifest, null, 1)),
    [lessonPath(b.lessonId)]: strToU8(b.lesson),
  }
  for (const [id, text] of b.replays) files[replayPath(id)] = strToU8(text)
  // safetensors are already dense floats: storing them saves the page a slow deflate
  for (const [name, bytes] of b.models) files[modelPath(name)] = [bytes, { level: 0 }]
  return zipSync(files, { level: 6 })
}

function listOfNames(what: string, v: unknown): string[] {
  if (!Array.isArray(v)) throw new BundleError(`bundle.json: ${what} must be an array of names`)
  if (v.length > MAX_BUNDLE_ITEMS) throw new BundleError(`bundle.json: ${v.length} ${what}; allowed: at most ${MAX_BUNDLE_ITEMS}`)
  const names = v.map((n) => checkName(what.slice(0, -1), n))
  if (new Set(names).size !== names.length) throw new BundleError(`bundle.json: a name is listed twice in ${what}`)
  return names
}

/** The bundle in .zip bytes; throws BundleError naming what is wrong. */
export function unpackBundle(bytes: Uint8Array): LessonBundle {
  const tooBig: string[] = []
  let entries: Record<string, Uint8Array>
  try {
    // a .zip can promise gigabytes in a few kB: each entry's declared size is checked before it is unpacked
    entries = unzipSync(bytes, { filter: (f) => (f.originalSize > MAX_BUNDLE_ENTRY_BYTES ? (tooBig.push(f.name), false) : true) })
  } catch (e) {
    throw new BundleError(`not a .zip the lab can read (${(e as Error).message})`)
  }
  if (tooBig.length) throw new BundleError(`${tooBig[0].slice(0, 60)} unpacks to more than ${MAX_BUNDLE_ENTRY_BYTES / 2 ** 20} MiB; allowed: at most that`)
  const manifestBytes = entries[MANIFEST]
  if (!manifestBytes) throw new BundleError(`no ${MANIFEST} in the .zip: is it a lesson file the lab wrote ("Download for offline use")?`)
  let manifest: Record<string, unknown>
  try {
    const parsed: unknown = JSON.parse(strFromU8(manifestBytes))
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
    manifest = parsed as Record<string, unknown>
  } catch (e) {
    throw new BundleError(`${MANIFEST} is not a JSON object (${(e as Error).message})`)
  }
  if (manifest.format !== BUNDLE_FORMAT) throw new BundleError(`${MANIFEST}: format ${JSON.stringify(String(manifest.format).slice(0, 40))}; allowed: ${JSON.stringify(BUNDLE_FORMAT)}`)
  if (manifest.version !== BUNDLE_VERSION) throw new BundleError(`${MANIFEST}: version ${JSON.stringify(manifest.version)}; this lab reads version ${BUNDLE_VERSION}`)
  const lessonId = checkName('lesson', manifest.lesson)
  const entry = (path: string) => {
    const e = entries[path]
    if (!e) throw new BundleError(`${MANIFEST} lists ${path}, but the .zip has no such file`)
    return e
  }
  const text = (path: string) => {
    try { return new TextDecoder('utf-8', { fatal: true }).decode(entry(path)) } catch (e) {
      if (e instanceof BundleError) throw e
      throw new BundleError(`${path} is not UTF-8 text`)
    }
  }
  return {
    lessonId,
    lesson: text(lessonPath(lessonId)),
    replays: new Map(listOfNames('replays', manifest.replays).map((id) => [id, text(replayPath(id))])),
    models: new Map(listOfNames('models', manifest.models).map((name) => [name, entry(modelPath(name))])),
  }
}
