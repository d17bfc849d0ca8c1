/** Small byte and flag helpers shared by the map types. */

/** Update flags (`BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`). */
export const ANY = 0n;
export const NOEXIST = 1n;
export const EXIST = 2n;

/** A register or number as an unsigned 64-bit flags value. */
export function flagsOf(flags: number | bigint): bigint {
  return BigInt.asUintN(64, typeof flags === 'bigint' ? flags : BigInt(Math.trunc(flags)));
}

export const round8 = (n: number): number => Math.ceil(n / 8) * 8;

/** A little-endian u32 from the first bytes of `b`. */
export function u32At(b: Uint8Array, off = 0): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}
export function u32Bytes(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

/**
 * A string that identifies a key's bytes (a Map key). Keys are hashed on
 * every helper call, so the usual small sizes avoid `apply` and subarrays.
 */
export function keyString(b: Uint8Array): string {
  const n = b.length;
  if (n <= 16) {
    // Two bytes per UTF-16 unit (plus the odd last byte): short strings, no
    // array. One map's keys all have the same length, so this is one-to-one.
    let s = '';
    let k = 0;
    for (; k + 1 < n; k += 2) s += String.fromCharCode(b[k]! | (b[k + 1]! << 8));
    if (k < n) s += String.fromCharCode(b[k]!);
    return s;
  }
  let s = '';
  for (let k = 0; k < n; k += 4096) s += String.fromCharCode.apply(null, b.subarray(k, k + 4096) as unknown as number[]);
  return s;
}
