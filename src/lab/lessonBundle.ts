// The offline lesson file around src/lab/bundle.ts: what a lesson needs packed beside it (the
// replays of the presets it uses, the base models its runs start from), and a file opened again:
// unpacked, its lesson checked as a fetched one is, each replay read as one (of the preset it is
// filed under), each model read as a checkpoint (a model named after a shipped one must be that
// model's shape: the config checks assume it), all before the page changes anything.
import { checkpointFromBytes } from '../model/hfFolder'
import { shippedModel } from '../model/shipped'
import { type Lesson, parseLessonText } from '../lessons/lesson'
import { DEFAULT_RUN_CONFIG, resolvePartial, type RunConfig } from '../rl/config'
import { BundleError, unpackBundle } from './bundle'
import { presetById, presetOf } from './presets'
import { parseReplay } from './replay'

export interface LessonNeeds {
  /** preset ids, in the order the lesson meets them: the replays to pack */
  presets: string[]
  /** shipped base models its runs start from */
  models: string[]
}

/** Walk the lesson's actions as the page runs them (from `start`, the configuration a lesson link
 *  opens with): the presets it chooses, and for each run it steps or starts, its preset (when its
 *  configuration is one) and its base model. */
export function lessonNeeds(lesson: Lesson, start: RunConfig = DEFAULT_RUN_CONFIG): LessonNeeds {
  const presets = new Set<string>()
  const models = new Set<string>()
  let config = start
  const runs = () => {
    const p = presetOf(config, DEFAULT_RUN_CONFIG)
    if (p) presets.add(p.id)
    if (shippedModel(config.base_model)) models.add(config.base_model)
  }
  for (const page of lesson.pages) {
    for (const a of page.actions) {
      if ('preset' in a) {
        const p = presetById(a.preset)
        if (!p) continue
        presets.add(p.id)
        config = { ...DEFAULT_RUN_CONFIG, ...p.values, seed: config.seed }
      } else if ('set' in a) config = resolvePartial(a.set, config).config
      else if ('press' in a && (a.press === 'step' || a.press === 'start')) runs()
    }
  }
  return { presets: [...presets], models: [...models] }
}

export interface OpenedLessonFile {
  lesson: Lesson
  /** the lesson file's text (packed again by a later download) */
  text: string
  /** replay file texts by preset id, each read as a replay of its preset here (the player reads it again when it plays it) */
  replays: Record<string, string>
  /** .safetensors bytes by model name, each read as a checkpoint here */
  models: Record<string, Uint8Array>
}

/** A lesson file's bytes, every part checked; throws BundleError naming what is wrong. */
export function openLessonFile(bytes: Uint8Array): OpenedLessonFile {
  const b = unpackBundle(bytes)
  let lesson: Lesson
  try { lesson = parseLessonText(b.lesson, b.lessonId) } catch (e) {
    throw new BundleError(`lessons/${b.lessonId}.json is not a valid lesson — ${(e as Error).message}`)
  }
  const models: Record<string, Uint8Array> = {}
  for (const [name, data] of b.models) {
    const path = `models/${name}.safetensors`
    let ck
    try { ck = checkpointFromBytes(data) } catch (e) { throw new BundleError(`${path} is not a model this lab can load — ${(e as Error).message}`) }
    const shipped = shippedModel(name)
    if (shipped && (ck.config.blockSize !== shipped.blockSize || ck.tokenizer.chars !== shipped.chars)) {
      throw new BundleError(`${path} is not the shipped model ${name} (context ${ck.config.blockSize}, ${ck.tokenizer.chars.length} characters; ` +
        `the shipped one has context ${shipped.blockSize}, ${shipped.chars.length} characters); allowed: the lab's own ${name}`)
    }
    models[name] = data
  }
  for (const [id, text] of b.replays) {
    let preset
    try { preset = parseReplay(text).preset } catch (e) { throw new BundleError(`replays/${id}.json is not a replay this lab can play — ${(e as Error).message}`) }
    if (preset !== id) throw new BundleError(`replays/${id}.json is the replay of preset ${preset}; allowed: the replay of ${id}`)
  }
  return { lesson, text: b.lesson, replays: Object.fromEntries(b.replays), models }
}

/** The name a downloaded lesson file is saved under. */
export const lessonFileName = (id: string) => `${id}.grpo-lesson.zip`
