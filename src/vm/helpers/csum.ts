/**
 * bpf_csum_diff as Linux 6.13+ computes it: the ones'-complement sum of
 * `to` (seeded) minus that of `from`, folded to 16 bits (not inverted). Sizes
 * need not be multiples of 4 any more; with both sizes 0 the seed comes back
 * unchanged. The sums follow x86-64's csum_partial (little-endian 64-bit
 * words, end-around carry), so results match the kernel bit for bit.
 */
import { helper, readArg, u32 } from './memory.js';
import type { HelperDef } from './registry.js';

const M64 = 2n ** 64n - 1n;
const M32 = 0xffffffffn;

/** Adds with end-around carry in 64 bits. */
const add64 = (a: bigint, b: bigint): bigint => {
  const s = a + b;
  return s > M64 ? (s & M64) + 1n : s;
};
/** Adds with end-around carry in 32 bits. */
const add32 = (a: bigint, b: bigint): bigint => {
  const s = a + b;
  return s > M32 ? (s & M32) + 1n : s;
};

/** The kernel's csum_partial: a 32-bit ones'-complement sum of `bytes`, starting from `seed`. */
export function csumPartial(bytes: Uint8Array, seed: number): number {
  let sum = BigInt(seed >>> 0);
  for (let k = 0; k < bytes.length; k += 8) {
    let word = 0n;
    for (let j = Math.min(7, bytes.length - k - 1); j >= 0; j--) word = (word << 8n) | BigInt(bytes[k + j]!);
    sum = add64(sum, word);
  }
  return Number(add32(sum >> 32n, sum & M32));
}

/** Folds a 32-bit sum to 16 bits with end-around carry (csum_from32to16). */
export function from32to16(x: number): number {
  let v = (x & 0xffff) + (x >>> 16);
  v = (v & 0xffff) + (v >>> 16);
  return v;
}

/** What bpf_csum_diff returns for these buffers and seed. */
export function csumDiff(from: Uint8Array, to: Uint8Array, seed: number): number {
  if (from.length && to.length) {
    const a = csumPartial(to, seed), b = csumPartial(from, 0);
    return from32to16(Number(add32(BigInt(a >>> 0), BigInt(~b >>> 0))));
  }
  if (to.length) return from32to16(csumPartial(to, seed));
  if (from.length) return from32to16(~csumPartial(from, ~seed >>> 0) >>> 0);
  // Nothing to add: the seed alone, folded like every other result (Linux 6.18: 0x12345678 gives 0x68ac).
  return from32to16(seed >>> 0);
}

export const csumDiffHelper = helper(28, 'csum_diff', (env, from, fromSize, to, toSize, seed) => {
  const f = readArg(env, 'csum_diff', 'from', from, u32(fromSize));
  const t = readArg(env, 'csum_diff', 'to', to, u32(toSize));
  return BigInt(csumDiff(f, t, u32(seed)));
});

/** bpf_csum_diff. */
export const csumHelpers = (): HelperDef[] => [csumDiffHelper];
