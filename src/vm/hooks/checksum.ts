/**
 * The Internet checksum arithmetic of the kernel's packet helpers, value for
 * value as Linux computes it on x86-64 (little-endian): ones' complement
 * sums with end-around carry, where a sum is 0 only if every addend was 0.
 * Checksums in memory are read and written as native (little-endian) u16.
 */

const TWO32 = 0x100000000;

/** `csum_add`: 32-bit addition with end-around carry. */
export function csumAdd(a: number, b: number): number {
  const s = (a >>> 0) + (b >>> 0);
  return s >= TWO32 ? s - TWO32 + 1 : s;
}

/** `csum_sub`: adds the complement. */
export const csumSub = (a: number, b: number): number => csumAdd(a, ~b >>> 0);

/** `csum_fold`: folds 32 bits to 16 with end-around carry and complements. */
export function csumFold(sum: number): number {
  let s = (sum & 0xffff) + (sum >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** `csum16_add`: 16-bit addition with end-around carry. */
function csum16Add(csum: number, addend: number): number {
  const a = addend & 0xffff;
  const res = ((csum & 0xffff) + a) & 0xffff;
  return (res + (res < a ? 1 : 0)) & 0xffff;
}

/** `csum_replace2`: the new checksum after a 16-bit field changed from `from` to `to`. */
export function csumReplace2(sum: number, from: number, to: number): number {
  return ~csum16Add(csum16Add(~sum & 0xffff, ~from & 0xffff), to) & 0xffff;
}

/** `csum_replace4` (and `inet_proto_csum_replace4/2` without offload): the same for a 32-bit field. */
export function csumReplace4(sum: number, from: number, to: number): number {
  const tmp = csumSub(~(sum & 0xffff) >>> 0, from >>> 0);
  return csumFold(csumAdd(tmp, to >>> 0));
}

/** `csum_replace_by_diff`: applies a 32-bit difference (from `bpf_csum_diff`). */
export function csumReplaceByDiff(sum: number, diff: number): number {
  return csumFold(csumAdd(diff >>> 0, ~(sum & 0xffff) >>> 0));
}
