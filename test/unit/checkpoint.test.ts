// Checkpoints (safetensors with config and tokenizer in the metadata), the tokenizer, configs.
import { describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { checkpointOf, loadInto, loadSafetensors, saveSafetensors } from '../../src/model/checkpoint'
import { ConfigError, validateConfig } from '../../src/model/config'
import { GPT } from '../../src/model/gpt'
import { CharTokenizer, EOS_ID } from '../../src/model/tokenizer'

const config = { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 }
const tokenizer = new CharTokenizer('0123456789')

async function saved(): Promise<{ bytes: Uint8Array; model: GPT }> {
  const model = new GPT(new CpuBackend(), config)
  model.initialize(5)
  return { bytes: saveSafetensors(await checkpointOf(model, tokenizer, { note: 'test' })), model }
}

describe('safetensors checkpoints', () => {
  it('round-trip weights, config, tokenizer and metadata exactly', async () => {
    const { bytes, model } = await saved()
    const ck = loadSafetensors(bytes)
    expect(ck.config).toEqual(config)
    expect(ck.tokenizer.chars).toBe('0123456789')
    expect(ck.metadata.note).toBe('test')
    const other = new GPT(new CpuBackend(), config)
    loadInto(other, ck)
    expect(Array.from(await other.readFlat())).toEqual(Array.from(await model.readFlat()))
  })

  it('follow the safetensors layout: u64 header length, JSON header, 8-byte aligned data', async () => {
    const { bytes } = await saved()
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true))
    expect((8 + n) % 8).toBe(0)
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)))
    expect(header.wte).toEqual({ dtype: 'F32', shape: [11, 8], data_offsets: [0, 11 * 8 * 4] })
    expect(header.__metadata__.format).toBe('grpo-lab/gpt-v1')
  })

  it('reject corrupt files with a message naming what is wrong', async () => {
    const { bytes } = await saved()
    expect(() => loadSafetensors(bytes.subarray(0, 5))).toThrow(/too short/)
    expect(() => loadSafetensors(bytes.subarray(0, 200))).toThrow(/header length/)
    const truncated = bytes.subarray(0, bytes.length - 16)
    expect(() => loadSafetensors(truncated)).toThrow(/ln_f.bias.*outside/)
    const garbled = bytes.slice(); garbled[12] = 0xff
    expect(() => loadSafetensors(garbled)).toThrow(/not valid JSON/)
    const other = new GPT(new CpuBackend(), { ...config, nEmbd: 16 })
    expect(() => loadInto(other, loadSafetensors(bytes))).toThrow(/does not match/)
  })
})

describe('character tokenizer', () => {
  it('encodes, decodes up to the end token, and names unknown characters', () => {
    expect(tokenizer.vocabSize).toBe(11)
    expect(tokenizer.encode('907')).toEqual([10, 1, 8])
    expect(tokenizer.decode([10, 1, EOS_ID, 8])).toBe('90')
    expect(() => tokenizer.encode('9x')).toThrow(/"x" is not in the alphabet/)
  })
})

describe('model config validation', () => {
  it('names the field and the allowed values', () => {
    expect(() => validateConfig({ ...config, nLayer: 0 })).toThrow(ConfigError)
    expect(() => validateConfig({ ...config, nLayer: 0 })).toThrow(/nLayer: got 0; allowed: an integer from 1 to 12/)
    expect(() => validateConfig({ ...config, nEmbd: 10, nHead: 3 })).toThrow(/nEmbd: got 10, which is not a multiple of nHead = 3/)
    expect(validateConfig(config)).toEqual(config)
  })
})
