// The benchmark page's own build (bench/index.html), apart from the lab's (vite.config.ts).
// scripts/bench.mjs builds it into a temporary directory of its own, serves it and drives it;
// `npx vite build -c bench/vite.config.ts` alone writes to node_modules/.cache/grpo-lab-bench.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: {
    target: 'es2022',
    outDir: fileURLToPath(new URL('../node_modules/.cache/grpo-lab-bench/', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 10_000,
    reportCompressedSize: false,
  },
})
