// Where the page fetches a base model from, and the download cap — with real fetch Responses
// and streams (Node's), so the cap is checked on the same objects the worker reads.
import { describe, expect, it } from 'vitest'
import { MAX_MODEL_BYTES, modelSource, readCapped } from '../../src/lab/modelSource'

const PAGE = 'http://127.0.0.1:4173/lab/?backend=cpu#v=1'

describe('modelSource', () => {
  it('a name, a relative path or a URL on the page\'s origin loads without asking', () => {
    expect(modelSource('addition', PAGE, '/lab/')).toEqual({ kind: 'same-origin', url: 'http://127.0.0.1:4173/lab/models/addition.safetensors' })
    expect(modelSource('models/x.safetensors', PAGE, '/lab/')).toEqual({ kind: 'same-origin', url: 'http://127.0.0.1:4173/lab/models/x.safetensors' })
    expect(modelSource('http://127.0.0.1:4173/m.safetensors', PAGE, '/')).toMatchObject({ kind: 'same-origin' })
    expect(modelSource('', PAGE, '/')).toEqual({ kind: 'fresh' })
  })

  it('another origin (another host, port or scheme; a protocol-relative path) needs consent, naming the host', () => {
    expect(modelSource('https://example.invalid/m.safetensors', PAGE, '/')).toEqual({
      kind: 'other-origin', url: 'https://example.invalid/m.safetensors', origin: 'https://example.invalid', host: 'example.invalid' })
    expect(modelSource('http://127.0.0.1:9999/m.safetensors', PAGE, '/')).toMatchObject({ kind: 'other-origin', host: '127.0.0.1:9999' })
    expect(modelSource('https://127.0.0.1:4173/m.safetensors', PAGE, '/')).toMatchObject({ kind: 'other-origin' })
    expect(modelSource('//evil.example/m.safetensors', PAGE, '/')).toMatchObject({ kind: 'other-origin', host: 'evil.example' })
  })

  it('other schemes are refused with what is allowed', () => {
    const r = modelSource('file:///etc/passwd', PAGE, '/')
    expect(r).toEqual({ kind: 'refused', message: 'base_model: file: URLs are not fetched; allowed: a model name, a path on this site, or an http(s) URL' })
  })
})

/** A body of `size` bytes in chunks of 64 KiB; counts the bytes the reader pulled. */
function body(size: number, headers: Record<string, string> = {}) {
  let sent = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= size) { c.close(); return }
      const n = Math.min(65536, size - sent)
      sent += n
      c.enqueue(new Uint8Array(n).fill(7))
    },
  }, { highWaterMark: 0 })
  return { res: new Response(stream, { headers }), pulled: () => sent }
}

describe('readCapped (the base model download)', () => {
  it('reads a file under the cap whole, with progress from Content-Length', async () => {
    const { res } = body(200_000, { 'Content-Length': '200000' })
    const seen: (number | null)[] = []
    const bytes = await readCapped(res, (f) => seen.push(f))
    expect(bytes.length).toBe(200_000)
    expect(bytes[199_999]).toBe(7)
    expect(seen.at(-1)).toBe(1)
    expect(seen.length).toBeGreaterThan(1)
    expect(seen.every((f, i) => i === 0 || f! >= seen[i - 1]!)).toBe(true)
  })

  it('refuses by Content-Length before reading the body', async () => {
    const { res, pulled } = body(MAX_MODEL_BYTES + 1, { 'Content-Length': String(MAX_MODEL_BYTES + 1) })
    await expect(readCapped(res, () => {})).rejects.toThrow('the file is 32.0 MiB, more than the 32 MiB a base model may have in this lab')
    expect(pulled()).toBe(0)
  })

  it('refuses while streaming when there is no length (or a false one), without reading far past the cap', async () => {
    const { res, pulled } = body(3 * MAX_MODEL_BYTES)
    await expect(readCapped(res, () => {})).rejects.toThrow(/^the download passed 32\.\d MiB, more than the 32 MiB/)
    expect(pulled()).toBeLessThan(MAX_MODEL_BYTES + 2 * 65536)
    const lying = body(2 * 1024 * 1024, { 'Content-Length': '1000' })
    await expect(readCapped(lying.res, () => {}, 1024 * 1024)).rejects.toThrow(/^the download passed 1\.\d MiB, more than the 1 MiB/)
  })
})
