/**
 * 64-bit integer arithmetic on (lo, hi) pairs of signed 32-bit halves. The
 * interpreter keeps registers this way so the hot path never allocates a
 * BigInt. Results are written to the shared `out` pair.
 */
export const out = new Int32Array(2);

const TWO32 = 4294967296;

/** Unsigned high 32 bits of a 32x32-bit product. */
function mulhu(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  out[0] = Math.imul(alo, blo);
  out[1] = (mulhu(alo, blo) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

export function add64(alo: number, ahi: number, blo: number, bhi: number): void {
  const lo = (alo >>> 0) + (blo >>> 0);
  out[0] = lo | 0;
  out[1] = (ahi + bhi + (lo >= TWO32 ? 1 : 0)) | 0;
}

export function sub64(alo: number, ahi: number, blo: number, bhi: number): void {
  const lo = (alo >>> 0) - (blo >>> 0);
  out[0] = lo | 0;
  out[1] = (ahi - bhi - (lo < 0 ? 1 : 0)) | 0;
}

export function lsh64(lo: number, hi: number, n: number): void {
  n &= 63;
  if (n === 0) { out[0] = lo; out[1] = hi; }
  else if (n < 32) { out[1] = (hi << n) | (lo >>> (32 - n)); out[0] = lo << n; }
  else { out[1] = lo << (n - 32); out[0] = 0; }
}

export function rsh64(lo: number, hi: number, n: number): void {
  n &= 63;
  if (n === 0) { out[0] = lo; out[1] = hi; }
  else if (n < 32) { out[0] = (lo >>> n) | (hi << (32 - n)); out[1] = hi >>> n; }
  else { out[0] = hi >>> (n - 32); out[1] = 0; }
}

export function arsh64(lo: number, hi: number, n: number): void {
  n &= 63;
  if (n === 0) { out[0] = lo; out[1] = hi; }
  else if (n < 32) { out[0] = (lo >>> n) | (hi << (32 - n)); out[1] = hi >> n; }
  else { out[0] = hi >> (n - 32); out[1] = hi >> 31; }
}

export const toBig = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
export const toSigned = (lo: number, hi: number): bigint => BigInt.asIntN(64, toBig(lo, hi));

export function fromBig(v: bigint): void {
  const u = BigInt.asUintN(64, v);
  out[0] = Number(u & 0xffffffffn) | 0;
  out[1] = Number(u >> 32n) | 0;
}

/** Unsigned 64-bit division; division by zero gives 0 (RFC 9669). */
export function udiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { out[0] = 0; out[1] = 0; return; }
  if (ahi === 0 && bhi === 0) { out[0] = Math.floor((alo >>> 0) / (blo >>> 0)) | 0; out[1] = 0; return; }
  fromBig(toBig(alo, ahi) / toBig(blo, bhi));
}

/** Unsigned 64-bit modulo; modulo by zero leaves the dividend (RFC 9669). */
export function umod64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { out[0] = alo; out[1] = ahi; return; }
  if (ahi === 0 && bhi === 0) { out[0] = ((alo >>> 0) % (blo >>> 0)) | 0; out[1] = 0; return; }
  fromBig(toBig(alo, ahi) % toBig(blo, bhi));
}

/** Signed 64-bit division, truncating; by zero gives 0; INT64_MIN / -1 wraps to INT64_MIN. */
export function sdiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { out[0] = 0; out[1] = 0; return; }
  fromBig(toSigned(alo, ahi) / toSigned(blo, bhi));
}

/** Signed 64-bit modulo, truncating (sign of the dividend); by zero leaves the dividend. */
export function smod64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { out[0] = alo; out[1] = ahi; return; }
  fromBig(toSigned(alo, ahi) % toSigned(blo, bhi));
}

export function udiv32(a: number, b: number): number {
  return b === 0 ? 0 : Math.floor((a >>> 0) / (b >>> 0)) | 0;
}
export function umod32(a: number, b: number): number {
  return b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0;
}
export function sdiv32(a: number, b: number): number {
  return b === 0 ? 0 : Math.trunc((a | 0) / (b | 0)) | 0;
}
export function smod32(a: number, b: number): number {
  return b === 0 ? a : ((a | 0) % (b | 0)) | 0;
}

export function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}
export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/** Unsigned 64-bit a > b. */
export const ugt = (alo: number, ahi: number, blo: number, bhi: number): boolean =>
  ahi !== bhi ? (ahi >>> 0) > (bhi >>> 0) : (alo >>> 0) > (blo >>> 0);
/** Signed 64-bit a > b. */
export const sgt = (alo: number, ahi: number, blo: number, bhi: number): boolean =>
  ahi !== bhi ? ahi > bhi : (alo >>> 0) > (blo >>> 0);
