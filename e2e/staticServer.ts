// A static file server on 127.0.0.1 at a free port (another origin than the lab's), with CORS:
// URL prefixes map to folders. It records every path requested.
import { readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, normalize } from 'node:path'

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' }

export interface StaticServer { origin: string; host: string; requests: string[]; close(): Promise<void> }

/** roots: URL prefix → folder (with a trailing slash each); the longest matching prefix wins. */
export async function startStaticServer(roots: Record<string, string>): Promise<StaticServer> {
  const requests: string[] = []
  const prefixes = Object.keys(roots).sort((a, b) => b.length - a.length)
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    requests.push(path)
    const prefix = prefixes.find((p) => path.startsWith(p))
    const file = prefix === undefined ? '' : normalize(roots[prefix] + path.slice(prefix.length))
    const headers = { 'Access-Control-Allow-Origin': '*' }
    try {
      if (!file || !file.startsWith(normalize(roots[prefix!])) || !statSync(file).isFile()) throw new Error('not a file')
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file))
    } catch {
      res.writeHead(404, headers).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  return { origin, host: new URL(origin).host, requests, close }
}
