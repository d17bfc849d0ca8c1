/**
 * Pass 2 of the kernel's BPF printf: `bstr_printf` over the packed argument
 * buffer that pass 1 (`./format.ts`) made, with vsnprintf's rules for
 * numbers, strings, characters and pointers.
 */
import type { Formatted } from './format.js';

const PCT = 0x25;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);
const ch = (s: string): number => s.charCodeAt(0);

// vsnprintf's flags.
const SIGN = 1, LEFT = 2, PLUS = 4, SPACE = 8, ZEROPAD = 16, SMALL = 32, SPECIAL = 64;

interface Spec {
  flags: number;
  /** -1: none. */
  width: number;
  /** -1: none. */
  precision: number;
  base: number;
}

/** An output buffer of `size` bytes that counts what does not fit. */
class Out {
  readonly buf: Uint8Array;
  n = 0;
  constructor(readonly size: number) {
    this.buf = new Uint8Array(size);
  }
  put(c: number): void {
    if (this.n < this.size) this.buf[this.n] = c;
    this.n++;
  }
  repeat(c: number, count: number): void {
    if (count <= 0) return;
    const from = Math.min(this.n, this.size), to = Math.min(this.n + count, this.size);
    if (to > from) this.buf.fill(c, from, to);
    this.n += count;
  }
  text(s: Uint8Array | string): void {
    for (let k = 0; k < s.length; k++) this.put(typeof s === 'string' ? s.charCodeAt(k) : s[k]!);
  }
}

/** Reads the packed arguments the way bstr_printf's get_arg does. */
class Args {
  private at = 0;
  private readonly view: DataView;
  constructor(private readonly bin: Uint8Array) {
    this.view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  }
  private byte(k: number): number {
    return this.bin[k] ?? 0;
  }
  get(bytes: 1 | 2 | 4 | 8): bigint {
    if (bytes > 1) this.at = (this.at + (bytes === 2 ? 1 : 3)) & ~(bytes === 2 ? 1 : 3);
    let v = 0n;
    const k = this.at;
    if (k + bytes <= this.bin.length) {
      v = bytes === 8 ? this.view.getBigUint64(k, true)
        : BigInt(bytes === 4 ? this.view.getUint32(k, true) : bytes === 2 ? this.view.getUint16(k, true) : this.view.getUint8(k));
    }
    this.at += bytes;
    return v;
  }
  /** The NUL-terminated string at the cursor (without moving it). */
  peekString(): Uint8Array {
    let e = this.at;
    while (e < this.bin.length && this.byte(e) !== 0) e++;
    return this.bin.slice(Math.min(this.at, this.bin.length), e);
  }
  skip(n: number): void {
    this.at += n;
  }
}

/** Pass 2: bstr_printf over the packed arguments into `size` bytes. */
export function render(fmt: Uint8Array, bin: Uint8Array, size: number): Formatted {
  const out = new Out(size);
  const args = new Args(bin);
  const f = new Uint8Array(fmt.length + 1);
  f.set(fmt);
  let i = 0;
  scan: while (f[i] !== 0) {
    if (f[i] !== PCT) {
      out.put(f[i]!);
      i++;
      continue;
    }
    // format_decode
    const spec: Spec = { flags: 0, width: -1, precision: -1, base: 10 };
    for (;;) {
      const c = f[++i]!;
      if (c === ch('-')) spec.flags |= LEFT;
      else if (c === ch('+')) spec.flags |= PLUS;
      else if (c === ch(' ')) spec.flags |= SPACE;
      else if (c === ch('#')) spec.flags |= SPECIAL;
      else if (c === ch('0')) spec.flags |= ZEROPAD;
      else break;
    }
    if (isDigit(f[i]!)) spec.width = (atoi() << 8) >> 8; // a 24-bit field in the kernel
    if (f[i] === ch('.')) {
      i++;
      if (isDigit(f[i]!)) spec.precision = Math.max(0, (atoi() << 16) >> 16);
    }
    let qual = 0;
    const q = f[i]!;
    if (q === ch('h') || q === ch('l') || q === ch('L') || q === ch('z') || q === ch('t')) {
      qual = q;
      i++;
      if (f[i] === q && (q === ch('l') || q === ch('h'))) {
        qual = q === ch('l') ? ch('L') : ch('H');
        i++;
      }
    }
    const conv = f[i]!;
    switch (conv) {
      case ch('c'): {
        i++;
        if (!(spec.flags & LEFT)) while (--spec.width > 0) out.put(0x20);
        out.put(Number(args.get(1)));
        while (--spec.width > 0) out.put(0x20);
        continue;
      }
      case ch('s'): {
        i++;
        const s = args.peekString();
        args.skip(s.length + 1);
        putString(out, s, spec);
        continue;
      }
      case ch('p'): {
        i++;
        const k = f[i]!;
        if (k === ch('S') || k === ch('s') || k === ch('F') || k === ch('f') || k === ch('x') || k === ch('K') || !isAlnum(k)) {
          putPointer(out, k, args.get(8), spec);
        } else if (out.n < out.size) {
          // Formatted in pass 1 (IP addresses, %pB, %pks/%pus strings): copied as is.
          const s = args.peekString();
          out.text(s);
          args.skip(s.length + 1);
        }
        while (isAlnum(f[i]!)) i++;
        continue;
      }
      case PCT:
        i++;
        out.put(PCT);
        continue;
      case ch('x'):
        spec.flags |= SMALL;
        spec.base = 16;
        break;
      case ch('X'):
        spec.base = 16;
        break;
      case ch('o'):
        spec.base = 8;
        break;
      case ch('d'):
      case ch('i'):
        spec.flags |= SIGN;
        break;
      case ch('u'):
        break;
      default:
        // An invalid conversion ends the output (pass 1 lets none through).
        break scan;
    }
    i++;
    const signed = (spec.flags & SIGN) !== 0;
    let num: bigint;
    if (qual === ch('L') || qual === ch('l') || qual === ch('z') || qual === ch('t')) num = args.get(8);
    else if (qual === ch('H')) num = signed ? BigInt.asUintN(64, BigInt.asIntN(8, args.get(1))) : args.get(1);
    else if (qual === ch('h')) num = signed ? BigInt.asUintN(64, BigInt.asIntN(16, args.get(2))) : args.get(2);
    else num = signed ? BigInt.asUintN(64, BigInt.asIntN(32, args.get(4))) : args.get(4);
    putNumber(out, num, spec);
  }
  if (size > 0) out.buf[Math.min(out.n, size - 1)] = 0;
  return { bytes: out.buf.slice(0, Math.min(out.n, Math.max(size - 1, 0))), length: out.n };

  function atoi(): number {
    let v = 0;
    do v = (Math.imul(v, 10) + f[i++]! - 0x30) | 0;
    while (isDigit(f[i]!));
    return v;
  }
}

const DIGITS = '0123456789ABCDEF';

/** vsnprintf's number(). */
function putNumber(out: Out, value: bigint, spec: Spec): void {
  let num = BigInt.asUintN(64, value);
  let { flags, width, precision } = spec;
  const base = spec.base;
  const locase = flags & SMALL;
  const prefix = (flags & SPECIAL) !== 0 && base !== 10;
  const zero = num === 0n;
  if (flags & LEFT) flags &= ~ZEROPAD;
  let sign = 0;
  if (flags & SIGN) {
    if (BigInt.asIntN(64, num) < 0n) {
      sign = ch('-');
      num = BigInt.asUintN(64, -BigInt.asIntN(64, num));
      width--;
    } else if (flags & PLUS) {
      sign = ch('+');
      width--;
    } else if (flags & SPACE) {
      sign = ch(' ');
      width--;
    }
  }
  if (prefix) {
    if (base === 16) width -= 2;
    else if (!zero) width--;
  }
  let digits = num.toString(base).toUpperCase();
  if (locase) digits = digits.toLowerCase();
  if (digits.length > precision) precision = digits.length;
  width -= precision;
  if (!(flags & (ZEROPAD | LEFT))) { out.repeat(0x20, width); width = -1; }
  if (sign) out.put(sign);
  if (prefix) {
    if (base === 16 || !zero) out.put(ch('0'));
    if (base === 16) out.put(ch('X') | locase);
  }
  if (!(flags & LEFT)) { out.repeat(flags & ZEROPAD ? ch('0') : 0x20, width); width = -1; }
  out.repeat(ch('0'), precision - digits.length);
  out.text(digits);
  out.repeat(0x20, width);
}

/** vsnprintf's string(): at most `precision` bytes, padded to the width with spaces. */
function putString(out: Out, s: Uint8Array, spec: Spec): void {
  const text = spec.precision >= 0 && s.length > spec.precision ? s.subarray(0, spec.precision) : s;
  const pad = spec.width - text.length;
  if (!(spec.flags & LEFT)) out.repeat(0x20, pad);
  out.text(text);
  if (spec.flags & LEFT) out.repeat(0x20, pad);
}

/** %p (hashed), %pK (hashed: kptr_restrict 0), %px (raw), %ps/%pS (no symbols: 0x...). */
function putPointer(out: Out, kind: number, ptr: bigint, spec: Spec): void {
  if (kind === ch('S') || kind === ch('s') || kind === ch('F') || kind === ch('f')) {
    putString(out, ascii(symbolText(ptr)), spec);
    return;
  }
  // NULL and error pointers are printed as they are, everything else hashed.
  const raw = kind === ch('x') || ptr === 0n || ptr >= 2n ** 64n - 4095n;
  const v = raw ? ptr : hash32(ptr);
  const s: Spec = { ...spec, base: 16, flags: spec.flags | SMALL };
  if (s.width === -1) {
    s.width = 16;
    s.flags |= ZEROPAD;
  }
  putNumber(out, v, s);
}

/** A fixed-key stand-in for the kernel's siphash of %p: the low 32 bits of a 64-bit mix. */
function hash32(p: bigint): bigint {
  let x = BigInt.asUintN(64, p ^ 0x7473627066707472n);
  x = BigInt.asUintN(64, (x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n);
  x = BigInt.asUintN(64, (x ^ (x >> 27n)) * 0x94d049bb133111ebn);
  return (x ^ (x >> 31n)) & 0xffffffffn;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** What the kernel prints for an address that is no symbol. */
export const symbolText = (ptr: bigint): string => `0x${BigInt.asUintN(64, ptr).toString(16)}`;
