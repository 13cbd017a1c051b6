// One kernel thread of the fast CPU backend (plain JavaScript: Node's worker_threads run it as is,
// and Vite bundles it for the page's Web Workers). It instantiates the kernels on the shared memory
// and takes parts of whatever kernel the host publishes, until told to stop. The protocol is
// described in wasmKernels.ts (control words CTL_*).

const CTL_WORD = 0 // (parts << 16) | parts handed out so far
const CTL_REMAINING = 1 // parts not finished
const CTL_KERNEL = 2
const CTL_STOP = 3
const CTL_FAILED = 4
/** Loads of the control word before sleeping: a short spin catches the next kernel of a burst. */
const SPIN = 4000

/** Serve one thread: `post` sends to the host; call the returned function with the host's first message. */
export function kernelThread(post) {
  return (msg) => {
    const { module, memory, ctlOffset, argsOffset, thread } = msg
    let exports
    try {
      exports = new WebAssembly.Instance(module, { env: { memory, exp: Math.exp, log: Math.log } }).exports
      exports.init(argsOffset)
    } catch (e) {
      post({ type: 'error', message: `kernel thread ${thread}: ${e.message}` })
      return
    }
    post({ type: 'ready' })
    serve(exports.run, new Int32Array(memory.buffer, ctlOffset, 8), thread)
    post({ type: 'stopped' })
  }
}

function serve(run, ctl, thread) {
  for (;;) {
    const v = Atomics.load(ctl, CTL_WORD)
    const parts = v >>> 16
    const next = v & 0xffff
    if (next >= parts) {
      if (Atomics.load(ctl, CTL_STOP) !== 0) return
      let spins = 0
      while (spins < SPIN && Atomics.load(ctl, CTL_WORD) === v) spins++
      if (spins === SPIN) Atomics.wait(ctl, CTL_WORD, v)
      continue
    }
    // a part is ours only if the word is still what we read: then it belongs to the kernel now published
    if (Atomics.compareExchange(ctl, CTL_WORD, v, v + 1) !== v) continue
    try {
      run(Atomics.load(ctl, CTL_KERNEL), next, parts, thread)
    } catch {
      Atomics.store(ctl, CTL_FAILED, 1)
    }
    if (Atomics.sub(ctl, CTL_REMAINING, 1) === 1) Atomics.notify(ctl, CTL_REMAINING)
  }
}
