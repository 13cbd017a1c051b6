// A minimal protocol-buffers writer (https://protobuf.dev/programming-guides/encoding/): enough
// to write an ONNX model without a protobuf dependency. A message is a list of byte chunks;
// a nested message is appended by reference (its length is known), so large payloads such as
// tensor data are copied once, when `finish` joins the chunks.

export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const

const textEncoder = new TextEncoder()

export class ProtoWriter {
  private chunks: Uint8Array[] = []
  private scratch = new Uint8Array(64)
  private used = 0
  /** total bytes written so far */
  length = 0

  private ensure(n: number): void {
    if (this.used + n <= this.scratch.length) return
    this.flushScratch()
    if (n > this.scratch.length) this.scratch = new Uint8Array(Math.max(n, 2 * this.scratch.length))
  }

  private flushScratch(): void {
    if (this.used === 0) return
    this.chunks.push(this.scratch.slice(0, this.used))
    this.used = 0
  }

  private byte(b: number): void {
    this.ensure(1)
    this.scratch[this.used++] = b
    this.length++
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length <= 32) {
      this.ensure(bytes.length)
      this.scratch.set(bytes, this.used)
      this.used += bytes.length
    } else {
      this.flushScratch()
      this.chunks.push(bytes)
    }
    this.length += bytes.length
  }

  /** A raw varint: non-negative integers as they are; negative ones as 64-bit two's complement
   *  (10 bytes), as protobuf encodes a negative int32 / int64. */
  rawVarint(value: number | bigint): this {
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) throw new RangeError(`protobuf: varint of a non-integer ${value}`)
      if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
        let v = value
        while (v >= 0x80) { this.byte((v % 0x80) | 0x80); v = Math.floor(v / 0x80) }
        this.byte(v)
        return this
      }
      value = BigInt(value)
    }
    let v = BigInt.asUintN(64, value)
    while (v >= 0x80n) { this.byte(Number(v & 0x7fn) | 0x80); v >>= 7n }
    this.byte(Number(v))
    return this
  }

  tag(field: number, wire: number): this {
    return this.rawVarint(field * 8 + wire)
  }

  /** int32, int64, uint32, uint64, enum and bool fields */
  varint(field: number, value: number | bigint | boolean): this {
    return this.tag(field, WireType.varint).rawVarint(typeof value === 'boolean' ? Number(value) : value)
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.fixed32)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    this.append(b)
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.lengthDelimited).rawVarint(value.length)
    this.append(value)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value))
  }

  /** An embedded message: written by `build` into a writer of its own, appended without copying. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const sub = new ProtoWriter()
    build(sub)
    sub.flushScratch()
    this.tag(field, WireType.lengthDelimited).rawVarint(sub.length)
    this.flushScratch()
    for (const c of sub.chunks) this.chunks.push(c)
    this.length += sub.length
    return this
  }

  /** A packed repeated float field (fixed32, little-endian). */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(values.length * 4)
    const dv = new DataView(b.buffer)
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true)
    return this.bytes(field, b)
  }

  /** A packed repeated varint field (int32 / int64 values). */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    const sub = new ProtoWriter()
    for (let i = 0; i < values.length; i++) sub.rawVarint(values[i])
    return this.bytes(field, sub.finish())
  }

  /** The message's bytes. */
  finish(): Uint8Array {
    this.flushScratch()
    if (this.chunks.length === 1) return this.chunks[0]
    const out = new Uint8Array(this.length)
    let at = 0
    for (const c of this.chunks) { out.set(c, at); at += c.length }
    return out
  }
}
