import { CaptureError } from './errors.js';

/**
 * Bounds-checked reads from a capture file in one byte order. Every read
 * past the end raises a CaptureError naming the offset, never a RangeError.
 */
export class ByteReader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    public littleEndian: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  need(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      throw new CaptureError(offset, `${what}: needs ${size} bytes, ${Math.max(0, this.bytes.length - offset)} left`);
    }
  }

  u8(offset: number, what: string): number {
    this.need(offset, 1, what);
    return this.bytes[offset]!;
  }

  u16(offset: number, what: string): number {
    this.need(offset, 2, what);
    return this.view.getUint16(offset, this.littleEndian);
  }

  u32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.view.getUint32(offset, this.littleEndian);
  }

  /** A 64-bit value stored as two 32-bit halves, high half first (pcapng timestamps). */
  u32pair(offset: number, what: string): bigint {
    return (BigInt(this.u32(offset, what)) << 32n) | BigInt(this.u32(offset + 4, what));
  }

  i64(offset: number, what: string): bigint {
    this.need(offset, 8, what);
    return this.view.getBigInt64(offset, this.littleEndian);
  }

  /** A copy of `size` bytes at `offset`. */
  copy(offset: number, size: number, what: string): Uint8Array {
    this.need(offset, size, what);
    return this.bytes.slice(offset, offset + size);
  }
}

/** Nanoseconds for a timestamp counted in units of base^-exp seconds. */
export function toNanos(ts: bigint, base: 2 | 10, exp: number): bigint {
  if (base === 2) return (ts * 1_000_000_000n) >> BigInt(exp);
  if (exp <= 9) return ts * 10n ** BigInt(9 - exp);
  return ts / 10n ** BigInt(exp - 9);
}
