import type { Cursor } from './cursor.js';
import { clip } from './lexer.js';

/**
 * Numeric operands and their ranges, shared by both syntaxes.
 *
 * - 32-bit immediates: decimal in [-2^31, 2^31-1]; hex without a sign up to
 *   0xffffffff, stored as its signed 32-bit pattern (0xffffffff is -1);
 *   negative hex down to -0x80000000.
 * - 16-bit offsets: [-32768, 32767] in either radix.
 * - 64-bit immediates (lddw): [-2^63, 2^64-1] in either radix.
 * - Relative targets stored in imm (gotol, local calls, func refs):
 *   [-2^31, 2^31-1] in either radix.
 */
export interface Num {
  /** Signed value as written. */
  value: bigint;
  hex: boolean;
  col: number;
  text: string;
}

const I32_MIN = -(1n << 31n);
const I32_MAX = (1n << 31n) - 1n;
const U32_MAX = (1n << 32n) - 1n;

/** Reads `[+|-] number`. */
export function signedNum(c: Cursor, what: string): Num {
  const col = c.col();
  let neg = false;
  let sign = '';
  if (c.is('-') || c.is('+')) {
    neg = c.is('-');
    sign = c.next().text;
  }
  const t = c.next(what);
  if (t.kind !== 'num') c.fail(`expected ${what}, found '${clip(t.text)}'`, t);
  return { value: neg ? -t.value : t.value, hex: t.hex, col, text: sign + t.text };
}

/** True when the next tokens start a number (with an optional sign). */
export function startsNum(c: Cursor): boolean {
  const t = c.peek();
  if (!t) return false;
  if (t.kind === 'num') return true;
  return (t.text === '-' || t.text === '+') && c.peek(1)?.kind === 'num';
}

/** Checks a 32-bit immediate and returns its stored (signed) value. */
export function toImm32(c: Cursor, n: Num): number {
  const max = n.hex ? U32_MAX : I32_MAX;
  if (n.value < I32_MIN || n.value > max) {
    c.failAt(`immediate ${clip(n.text)} is out of 32-bit range`, n.col);
  }
  return Number(BigInt.asIntN(32, n.value));
}

export function toOff16(c: Cursor, n: Num): number {
  if (n.value < -32768n || n.value > 32767n) c.failAt(`offset ${clip(n.text)} is out of 16-bit range`, n.col);
  return Number(n.value);
}

export function toRel32(c: Cursor, n: Num): number {
  if (n.value < I32_MIN || n.value > I32_MAX) c.failAt(`target ${clip(n.text)} is out of 32-bit range`, n.col);
  return Number(n.value);
}

/** Checks an unsigned 16-bit value (address space numbers). */
export function toU16(c: Cursor, n: Num): number {
  if (n.value < 0n || n.value > 0xffffn) c.failAt(`${clip(n.text)} is out of range 0-65535`, n.col);
  return Number(n.value);
}

export function toImm64(c: Cursor, n: Num): bigint {
  if (n.value < -(1n << 63n) || n.value > (1n << 64n) - 1n) {
    c.failAt(`immediate ${clip(n.text)} is out of 64-bit range`, n.col);
  }
  return n.value;
}

export const imm32 = (c: Cursor, what = 'an immediate'): number => toImm32(c, signedNum(c, what));
export const off16 = (c: Cursor, what = 'an offset'): number => toOff16(c, signedNum(c, what));
export const rel32 = (c: Cursor, what = 'a target'): number => toRel32(c, signedNum(c, what));
export const u16 = (c: Cursor, what = 'a number'): number => toU16(c, signedNum(c, what));

/** Prints a signed offset as `+N` or `-N`. */
export const rel = (n: number): string => (n < 0 ? `${n}` : `+${n}`);

/** Prints an unsigned 64-bit value in hex. */
export const hex64 = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;
