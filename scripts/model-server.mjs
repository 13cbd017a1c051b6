// A second origin for the e2e tests and the screenshots: serves public/models/<name>.safetensors
// with CORS on 127.0.0.1 at a free port (never the lab's), plus two files over the lab's download
// cap — one that says so in its Content-Length, one streamed with no length. It records every
// request it gets, so a test can tell that nothing was fetched before the visitor allowed it.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'

const OVERSIZED = 48 * 1024 * 1024

export async function startModelServer() {
  const requests = []
  const server = createServer((req, res) => {
    requests.push(req.url)
    const headers = { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/octet-stream' }
    const shipped = /^\/models\/([\w-]+)\.safetensors$/.exec(req.url ?? '')
    if (shipped) {
      let body
      try { body = readFileSync(`public/models/${shipped[1]}.safetensors`) } catch { res.writeHead(404, headers).end(); return }
      res.writeHead(200, { ...headers, 'Content-Length': String(body.length) }).end(body)
      return
    }
    if (req.url !== '/too-big.safetensors' && req.url !== '/no-length.safetensors') { res.writeHead(404, headers).end(); return }
    res.writeHead(200, req.url === '/too-big.safetensors' ? { ...headers, 'Content-Length': String(OVERSIZED) } : headers)
    const chunk = Buffer.alloc(1024 * 1024)
    let sent = 0
    res.on('close', () => { sent = OVERSIZED }) // the lab hung up: stop
    const pump = () => {
      while (sent < OVERSIZED) {
        sent += chunk.length
        if (!res.write(chunk)) { res.once('drain', pump); return }
      }
      res.end()
    }
    pump()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${server.address().port}`
  const close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) })
  return { origin, host: new URL(origin).host, requests, close }
}
