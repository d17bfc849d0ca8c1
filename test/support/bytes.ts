// Byte helpers the tests share.

/** Lower-case hex of the bytes, two digits each. */
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** `n` as 4 little-endian bytes (a u32 map key or value). */
export const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};
