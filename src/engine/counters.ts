// What the engine did, counted: on a real GPU tiny models are bound by dispatches and
// round trips, so these are part of every run's metrics.
export interface Counters {
  dispatches: number
  readbacks: number
  submits: number
  bytesUp: number
  bytesDown: number
  /** device memory held now by buffers the backend created (WebGPU: createBuffer sizes minus destroyed) */
  bytesAllocated: number
  /** the most bytesAllocated has been; set it to bytesAllocated to measure the peak of a span */
  peakBytes: number
  /** buffers the backend holds now (created minus destroyed): with bytesAllocated, what a leak shows in */
  liveBuffers: number
}

export function newCounters(): Counters {
  return { dispatches: 0, readbacks: 0, submits: 0, bytesUp: 0, bytesDown: 0, bytesAllocated: 0, peakBytes: 0, liveBuffers: 0 }
}

/** Work done between two snapshots; the memory fields are `now`'s (a level, not a flow). */
export function countersSince(now: Counters, before: Counters): Counters {
  return {
    dispatches: now.dispatches - before.dispatches,
    readbacks: now.readbacks - before.readbacks,
    submits: now.submits - before.submits,
    bytesUp: now.bytesUp - before.bytesUp,
    bytesDown: now.bytesDown - before.bytesDown,
    bytesAllocated: now.bytesAllocated,
    peakBytes: now.peakBytes,
    liveBuffers: now.liveBuffers,
  }
}

/** Memory bookkeeping shared by the backends: a buffer of `bytes` made (count +1) or freed (−1). */
export function countAllocation(c: Counters, bytes: number, buffers: 1 | -1): void {
  c.bytesAllocated += buffers * bytes
  c.liveBuffers += buffers
  if (c.bytesAllocated > c.peakBytes) c.peakBytes = c.bytesAllocated
}
