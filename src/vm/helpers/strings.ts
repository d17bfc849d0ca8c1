/** bpf_strtol, bpf_strtoul and bpf_strncmp, with the kernel's parsing rules. */
import { Errno, err, helper, readArg, readCString, ret, u32, writeU64 } from './memory.js';
import type { HelperDef, HelperEnv } from './registry.js';

const BASE_MASK = 0x1fn;
/** The kernel's isspace (Latin-1 table: 0xa0 is a space too). */
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
const isXDigit = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (lower(c) >= 0x61 && lower(c) <= 0x66);

interface Parsed {
  value: bigint;
  negative: boolean;
  /** Bytes of the buffer used: spaces, sign, radix prefix and digits. */
  consumed: number;
}

/** The kernel's __bpf_strtoull: an errno, or the magnitude, its sign and the bytes consumed. */
export function parseInteger(buf: Uint8Array, flags: bigint): Parsed | number {
  let base = Number(flags & BASE_MASK);
  if (buf.length === 0) return Errno.EINVAL;
  if (base !== 0 && base !== 8 && base !== 10 && base !== 16) return Errno.EINVAL;
  if ((flags & ~BASE_MASK) !== 0n) return Errno.EINVAL;
  let at = 0;
  while (at < buf.length && isSpace(buf[at]!)) at++;
  const negative = at < buf.length && buf[at] === 0x2d;
  if (negative) at++;
  if (at === buf.length) return Errno.EINVAL;
  // At most 63 bytes are parsed, as a NUL-terminated copy.
  const s = new Uint8Array(64);
  s.set(buf.subarray(at, at + 63));
  let k = 0;
  if (base === 0) base = s[0] === 0x30 ? (lower(s[1]!) === 0x78 && isXDigit(s[2]!) ? 16 : 8) : 10;
  if (base === 16 && s[0] === 0x30 && lower(s[1]!) === 0x78) k = 2;
  const start = k;
  let value = 0n;
  let overflow = false;
  const b = BigInt(base);
  for (;;) {
    const c = s[k]!;
    const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : lower(c) >= 0x61 && lower(c) <= 0x66 ? lower(c) - 0x61 + 10 : 99;
    if (v >= base) break;
    value = value * b + BigInt(v);
    if (value >= 2n ** 64n) overflow = true;
    value = BigInt.asUintN(64, value);
    k++;
  }
  if (overflow) return Errno.ERANGE;
  if (k === start) return Errno.EINVAL;
  return { value, negative, consumed: at + k };
}

function strto(env: HelperEnv, name: string, buf: bigint, bufLen: bigint, flags: bigint, res: bigint, signed: boolean): bigint {
  const bytes = readArg(env, name, 'buf', buf, Number(bufLen > 0xffffffffn ? 0xffffffffn : bufLen));
  writeU64(env, name, 'res', res, 0n);
  const p = parseInteger(bytes, flags);
  if (typeof p === 'number') return err(p);
  let v = p.value;
  if (signed) {
    if (p.negative) {
      v = BigInt.asUintN(64, -v);
      if (BigInt.asIntN(64, v) > 0n) return err(Errno.ERANGE);
    } else if (BigInt.asIntN(64, v) < 0n) {
      return err(Errno.ERANGE);
    }
  } else if (p.negative) {
    return err(Errno.EINVAL);
  }
  writeU64(env, name, 'res', res, v);
  return ret(p.consumed);
}

export const strtol = helper(105, 'strtol', (env, buf, len, flags, res) => strto(env, 'strtol', buf, len, flags, res, true));
export const strtoul = helper(106, 'strtoul', (env, buf, len, flags, res) => strto(env, 'strtoul', buf, len, flags, res, false));

/** strncmp(s1, s2, s1_sz): -1, 0 or 1, comparing unsigned bytes; s2 is a NUL-terminated constant. */
export const strncmp = helper(182, 'strncmp', (env, s1, s1Size, s2) => {
  const a = readArg(env, 'strncmp', 's1', s1, u32(s1Size));
  const b = readCString(env, 'strncmp', 's2', s2);
  for (let k = 0; k < a.length; k++) {
    const c1 = a[k]!, c2 = b[k] ?? 0;
    if (c1 !== c2) return ret(c1 < c2 ? -1 : 1);
    if (c1 === 0) break;
  }
  return 0n;
});

/** The string helpers. */
export const stringHelpers = (): HelperDef[] => [strtol, strtoul, strncmp];
