// Two tests on the shared WebGPU helper: one binds a buffer view larger than its buffer (a
// validation error WebGPU reports asynchronously, with no exception), one does nothing wrong.
import { expect, it } from 'vitest'
import { whole, type Tensor } from '../../src/engine/backend'
import { useGpu } from '../helpers'

const gpu = useGpu()

it('binds a view larger than its buffer', () => {
  const small = gpu().createBuffer(64, 'f32', 'small')
  const tooLong: Tensor = { buffer: small, offset: 0, length: 1000 }
  gpu().fill(tooLong, 0)
})

it('fills a buffer', async () => {
  const t = whole(gpu().createBuffer(64, 'f32', 'ok'))
  gpu().fill(t, 2)
  expect(Array.from(await gpu().read(t)).every((x) => x === 2)).toBe(true)
})
