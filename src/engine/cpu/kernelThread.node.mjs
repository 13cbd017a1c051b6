// A kernel thread in Node (worker_threads), see kernelThread.mjs.
import { parentPort } from 'node:worker_threads'
import { kernelThread } from './kernelThread.mjs'

parentPort.once('message', kernelThread((m) => parentPort.postMessage(m)))
