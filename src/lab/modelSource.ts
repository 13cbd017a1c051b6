// Where a run's base model comes from, and whether the page may fetch it without asking. A link
// is anyone's to write: a base_model on the page's own origin loads silently, one on another
// origin only after the visitor allows that host (nothing is fetched before). Downloads are capped.
import { baseModelUrl } from './protocol'

/** The largest base model the page downloads (the shipped ones are about 0.45 MB). */
export const MAX_MODEL_BYTES = 32 * 1024 * 1024
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) ? 1 : 0)} MiB`
export const MAX_MODEL_LABEL = mib(MAX_MODEL_BYTES)

export type ModelSource =
  | { kind: 'fresh' }
  | { kind: 'same-origin'; url: string }
  | { kind: 'other-origin'; url: string; origin: string; host: string }
  | { kind: 'refused'; message: string }

/** `baseModel` as the page at `pageUrl` (serving its files under `baseUrl`) would fetch it. */
export function modelSource(baseModel: string, pageUrl: string, baseUrl: string): ModelSource {
  if (baseModel === '') return { kind: 'fresh' }
  let url: URL
  try { url = new URL(baseModelUrl(baseModel, baseUrl), pageUrl) } catch {
    return { kind: 'refused', message: `base_model: ${JSON.stringify(baseModel.slice(0, 80))} is not a URL the page can fetch; allowed: a model name, a path on this site, or an http(s) URL` }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { kind: 'refused', message: `base_model: ${url.protocol} URLs are not fetched; allowed: a model name, a path on this site, or an http(s) URL` }
  }
  if (url.origin === new URL(pageUrl).origin) return { kind: 'same-origin', url: url.href }
  return { kind: 'other-origin', url: url.href, origin: url.origin, host: url.host }
}

/** Thrown by readCapped: the file is larger than a base model may be. */
function tooLarge(bytes: number, whole: boolean, cap: number): Error {
  const size = (bytes / 1024 / 1024).toFixed(1)
  return new Error(`${whole ? `the file is ${size} MiB` : `the download passed ${size} MiB`}, more than the ${mib(cap)} a base model may have in this lab`)
}

/**
 * A response's body, refused when its Content-Length says it is over the cap (before reading
 * any of it) or once the bytes read pass the cap (a server may send no length, or lie).
 * `onProgress` gets the fraction read when the length is known, else null.
 */
export async function readCapped(res: Response, onProgress: (fraction: number | null) => void, cap = MAX_MODEL_BYTES): Promise<Uint8Array> {
  const total = Number(res.headers.get('Content-Length')) || 0
  if (total > cap) { await res.body?.cancel(); throw tooLarge(total, true, cap) }
  const chunks: Uint8Array[] = []
  let got = 0
  const reader = res.body?.getReader()
  if (!reader) chunks.push(new Uint8Array(await res.arrayBuffer()))
  else {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      got += value.length
      if (got > cap) { await reader.cancel(); throw tooLarge(got, false, cap) }
      chunks.push(value)
      onProgress(total ? Math.min(1, got / total) : null)
    }
  }
  const bytes = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0))
  if (bytes.length > cap) throw tooLarge(bytes.length, true, cap)
  let at = 0
  for (const c of chunks) { bytes.set(c, at); at += c.length }
  return bytes
}
