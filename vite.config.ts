import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

/** The built page runs only its own scripts (no inline script, no eval), its own worker, and talks
 *  to its own origin — plus https: for a base model from another origin once the visitor consents.
 *  style-src needs 'unsafe-inline': KaTeX's worksheet markup carries style attributes (heights,
 *  struts). font-src and img-src data: are KaTeX's small fonts, which Vite inlines, and the favicon.
 *  No WebAssembly runs in the page, so no 'wasm-unsafe-eval'. Exports are blob: downloads (links,
 *  not fetches), which need no source. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
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

export default defineConfig({
  plugins: [react(), contentSecurityPolicy()],
  worker: { format: 'es' },
  build: { target: 'es2022', outDir: 'dist' },
})
