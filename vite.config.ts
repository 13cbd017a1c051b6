import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'
import { buildWasm, WASM_SOURCE_DIR } from './scripts/build-wasm.mjs'

/** The built page runs only its own scripts (no inline script, no eval), its own workers, and talks
 *  to its own origin — plus https: for a base model from another origin once the visitor consents.
 *  'wasm-unsafe-eval' lets the fast CPU backend compile its own WebAssembly kernels (it allows
 *  WebAssembly compilation only, not JavaScript eval). style-src needs 'unsafe-inline': KaTeX's
 *  worksheet markup carries style attributes (heights, struts). font-src and img-src data: are
 *  KaTeX's small fonts, which Vite inlines, and the favicon. Exports are blob: downloads (links,
 *  not fetches), which need no source. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' https:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ')

/** The policy as a meta tag of the built page only: the dev server's React refresh needs an inline script. */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'grpo-lab:content-security-policy',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
  }
}

/** The fast CPU backend's WebAssembly kernels, built from src/engine/cpu/assembly/ before the page
 *  (the binaries are not in git) and again when their sources change under the dev server. */
function wasmKernels(): Plugin {
  return {
    name: 'grpo-lab:wasm-kernels',
    async buildStart() { await buildWasm({ log: (line) => this.info(line) }) },
    configureServer(server) {
      server.watcher.add(WASM_SOURCE_DIR)
      server.watcher.on('change', (file) => {
        if (!file.startsWith(WASM_SOURCE_DIR) || !file.endsWith('.ts')) return
        buildWasm({ log: (line) => server.config.logger.info(line) })
          .then(() => server.ws.send({ type: 'full-reload' }))
          .catch((e: Error) => server.config.logger.error(e.message))
      })
    },
  }
}

/** Cross-origin isolation: without it a page has no SharedArrayBuffer, and the fast CPU backend runs on
 *  one thread. A static host must send the same two headers (README: "The fast CPU backend"). */
export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy(), wasmKernels()],
  worker: { format: 'es' },
  build: { target: 'es2022', outDir: 'dist' },
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
})
