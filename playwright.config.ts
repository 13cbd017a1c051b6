import { defineConfig } from '@playwright/test'
// @ts-expect-error plain ESM helper shared with the scripts
import { CHROMIUM_ARGS, findChromium } from './scripts/chromium.mjs'

// E2E_PORT: lets two checkouts run their e2e tiers side by side
const PORT = Number(process.env.E2E_PORT ?? 4174)

export default defineConfig({
  testDir: 'e2e',
  timeout: 120_000,
  expect: { timeout: 60_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS },
  },
  webServer: {
    command: `npx vite build --logLevel warn && npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    timeout: 120_000,
    reuseExistingServer: false,
  },
})
