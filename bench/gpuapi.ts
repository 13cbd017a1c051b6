// The same counters for every library on the page: the WebGPU API itself is wrapped, so that
// dispatches, submits, readbacks (buffer maps for reading) and bytes moved are counted alike for
// grpo-lab, TensorFlow.js and onnxruntime-web (which call the same browser API), per GPUDevice.
// The wrappers add a counter increment per call; nothing else changes.

export interface GpuApiCounts {
  dispatches: number
  submits: number
  /** mapAsync(READ): a round trip that brings data to the host */
  readbacks: number
  bytesDown: number
  /** queue.writeBuffer, buffers mapped at creation, mapAsync(WRITE) */
  bytesUp: number
  /** device memory held by live buffers now, and the most it has been (per device) */
  liveBytes: number
  peakBytes: number
}

const zero = (): GpuApiCounts => ({ dispatches: 0, submits: 0, readbacks: 0, bytesDown: 0, bytesUp: 0, liveBytes: 0, peakBytes: 0 })

const perDevice = new Map<GPUDevice, GpuApiCounts>()
const bufferInfo = new WeakMap<GPUBuffer, { device: GPUDevice; size: number; live: boolean }>()
const encoderDevice = new WeakMap<object, GPUDevice>()
const queueDevice = new WeakMap<GPUQueue, GPUDevice>()
let installed = false

function of(device: GPUDevice | undefined): GpuApiCounts {
  if (!device) return unknown
  let c = perDevice.get(device)
  if (!c) { c = zero(); perDevice.set(device, c) }
  return c
}
const unknown = zero()

/** Wrap the WebGPU prototypes once, before any library creates its device. */
export function installGpuApiCounters(): void {
  if (installed) return
  installed = true
  const g = globalThis as unknown as Record<string, { prototype: Record<string, unknown> } | undefined>
  const wrap = (cls: string, method: string, make: (orig: (...a: unknown[]) => unknown) => (this: unknown, ...a: unknown[]) => unknown) => {
    const proto = g[cls]?.prototype
    if (!proto || typeof proto[method] !== 'function') return
    proto[method] = make(proto[method] as (...a: unknown[]) => unknown)
  }
  wrap('GPUDevice', 'createBuffer', (orig) => function (this: unknown, ...a: unknown[]) {
    const device = this as GPUDevice
    const desc = a[0] as GPUBufferDescriptor
    const buf = orig.apply(this, a) as GPUBuffer
    const c = of(device)
    bufferInfo.set(buf, { device, size: desc.size, live: true })
    c.liveBytes += desc.size
    c.peakBytes = Math.max(c.peakBytes, c.liveBytes)
    if (desc.mappedAtCreation) c.bytesUp += desc.size
    queueDevice.set(device.queue, device)
    return buf
  })
  wrap('GPUBuffer', 'destroy', (orig) => function (this: unknown, ...a: unknown[]) {
    const info = bufferInfo.get(this as GPUBuffer)
    if (info?.live) { info.live = false; of(info.device).liveBytes -= info.size }
    return orig.apply(this, a)
  })
  wrap('GPUBuffer', 'mapAsync', (orig) => function (this: unknown, ...a: unknown[]) {
    const info = bufferInfo.get(this as GPUBuffer)
    const c = of(info?.device)
    const mode = a[0] as number
    const size = (a[2] as number | undefined) ?? (info ? info.size - ((a[1] as number | undefined) ?? 0) : 0)
    if (mode & 1 /* READ */) { c.readbacks++; c.bytesDown += size } else c.bytesUp += size
    return orig.apply(this, a)
  })
  wrap('GPUDevice', 'createCommandEncoder', (orig) => function (this: unknown, ...a: unknown[]) {
    const enc = orig.apply(this, a) as object
    encoderDevice.set(enc, this as GPUDevice)
    queueDevice.set((this as GPUDevice).queue, this as GPUDevice)
    return enc
  })
  wrap('GPUCommandEncoder', 'beginComputePass', (orig) => function (this: unknown, ...a: unknown[]) {
    const pass = orig.apply(this, a) as object
    encoderDevice.set(pass, encoderDevice.get(this as object) as GPUDevice)
    return pass
  })
  for (const m of ['dispatchWorkgroups', 'dispatchWorkgroupsIndirect']) {
    wrap('GPUComputePassEncoder', m, (orig) => function (this: unknown, ...a: unknown[]) {
      of(encoderDevice.get(this as object)).dispatches++
      return orig.apply(this, a)
    })
  }
  wrap('GPUQueue', 'submit', (orig) => function (this: unknown, ...a: unknown[]) {
    of(queueDevice.get(this as GPUQueue)).submits++
    return orig.apply(this, a)
  })
  wrap('GPUQueue', 'writeBuffer', (orig) => function (this: unknown, ...a: unknown[]) {
    const data = a[2] as ArrayBufferView | ArrayBuffer
    const elem = ArrayBuffer.isView(data) ? (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1 : 1
    const size = a[4] !== undefined ? (a[4] as number) * elem : (data as ArrayBuffer).byteLength - ((a[3] as number | undefined) ?? 0) * elem
    of(queueDevice.get(this as GPUQueue)).bytesUp += size
    return orig.apply(this, a)
  })
}

/** All devices' counts summed (a snapshot). */
export function gpuApiTotals(): GpuApiCounts {
  const t = zero()
  for (const c of [...perDevice.values(), unknown]) {
    t.dispatches += c.dispatches; t.submits += c.submits; t.readbacks += c.readbacks
    t.bytesDown += c.bytesDown; t.bytesUp += c.bytesUp; t.liveBytes += c.liveBytes; t.peakBytes += c.peakBytes
  }
  return t
}

/** Snapshot of one device's counts, or the totals. */
export function gpuApiSnapshot(device?: GPUDevice): GpuApiCounts {
  return device ? { ...of(device) } : gpuApiTotals()
}

/** Reset a device's peak to what it holds now (to measure the peak of a span). */
export function resetGpuApiPeak(device: GPUDevice): void {
  const c = of(device)
  c.peakBytes = c.liveBytes
}

/** Counts between two snapshots (live and peak are `after`'s). */
export function gpuApiSince(after: GpuApiCounts, before: GpuApiCounts): GpuApiCounts {
  return {
    dispatches: after.dispatches - before.dispatches, submits: after.submits - before.submits,
    readbacks: after.readbacks - before.readbacks, bytesDown: after.bytesDown - before.bytesDown,
    bytesUp: after.bytesUp - before.bytesUp, liveBytes: after.liveBytes, peakBytes: after.peakBytes,
  }
}

/** The devices seen so far, newest last (to find the one a library created). */
export function knownDevices(): GPUDevice[] {
  return [...perDevice.keys()]
}
