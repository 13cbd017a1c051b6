// A kernel thread in a page (a Web Worker started by the training worker), see kernelThread.mjs.
import { kernelThread } from './kernelThread.mjs'

const start = kernelThread((m) => self.postMessage(m))
self.addEventListener('message', (e) => start(e.data), { once: true })
