/**
 * The kernel's printf for BPF (`bpf_trace_printk`, `bpf_trace_vprintk`,
 * `bpf_snprintf`, `bpf_seq_printf`), in the kernel's two passes:
 *
 * 1. `prepare` checks the format the way `bpf_bprintf_prepare` does and packs
 *    the arguments into a 512-byte binary buffer: integers and pointers as
 *    aligned u32/u64, `%c` as one byte, strings (`%s`, `%pks`, `%pus`) copied
 *    in, IP addresses (`%pI4` ...) and `%pB` already formatted as text.
 *    Accepted: `%%`, flags `0 + - space`, a decimal width, `%c`, `%s`, `%d %i
 *    %u %x %X` with `l`/`ll`, `%p` with `K x s S B ks us i4 I4 i6 I6` or a
 *    space, punctuation or the end after it. Everything else (precision,
 *    `#`, `h`, `z`, `%o`, `*`...) and any byte that is neither printable
 *    ASCII nor a space is -EINVAL; more specifiers than arguments is -EINVAL;
 *    a full buffer is -ENOSPC.
 * 2. `render` (`./bstr-printf.ts`) formats from the buffer as the kernel's
 *    `bstr_printf` does (vsnprintf's number, string, char and pointer rules).
 *
 * Differences that cannot be helped: there are no kernel symbols, so `%ps`,
 * `%pS` and `%pB` print `0x` and the address in hex (what the kernel prints
 * for an address that is not a symbol); `%p` and `%pK` print a 32-bit hash
 * of the address, as the kernel does, but with a fixed key; `%px` prints the
 * address. Strings are read from the address space; one that is not
 * readable prints as the empty string, as in the kernel.
 */
import type { HelperEnv } from './registry.js';
import { render, symbolText } from './bstr-printf.js';
import { Errno, probeBytes, probeString } from './memory.js';

/** At most this many arguments (`data_len` / 8) for the helpers that take an array. */
export const MAX_BPRINTF_VARARGS = 12;
/** The output buffer of `bpf_trace_printk` / `bpf_trace_vprintk` (1023 bytes and a NUL). */
export const MAX_BPRINTF_BUF = 1024;
/** Size of the binary argument buffer. */
const BIN_ARGS = 512;

/** What formatting gives: the bytes that fit (`size - 1` at most), and the whole length. */
export interface Formatted {
  /** The output as written into a buffer of the given size, without its NUL. */
  readonly bytes: Uint8Array;
  /** The length of the whole output (what vsnprintf returns), however much fit. */
  readonly length: number;
}

export type FormatResult = Formatted | { readonly errno: number };

const PCT = 0x25;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;
const isAlpha = (c: number): boolean => ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);
const isPunct = (c: number): boolean => isPrint(c) && c !== 0x20 && !isAlnum(c);
const ch = (s: string): number => s.charCodeAt(0);

/**
 * Formats `fmt` (its bytes, without the NUL) with `args` (one u64 per
 * argument, as the program passed them) into a buffer of `size` bytes.
 */
export function bprintf(env: HelperEnv, fmt: Uint8Array, args: readonly bigint[], size: number): FormatResult {
  const bin = prepare(env, fmt, args);
  if (typeof bin === 'number') return { errno: bin };
  return render(fmt, bin, size);
}

/**
 * Formats the whole output when it is at most `max` bytes long (for
 * `bpf_seq_printf`); a longer one comes back cut, with its whole length.
 */
export function bprintfWhole(env: HelperEnv, fmt: Uint8Array, args: readonly bigint[], max: number): FormatResult {
  const bin = prepare(env, fmt, args);
  if (typeof bin === 'number') return { errno: bin };
  const r = render(fmt, bin, MAX_BPRINTF_BUF);
  return r.length < MAX_BPRINTF_BUF || r.length > max ? r : render(fmt, bin, r.length + 1);
}

/** Pass 1: checks the format and packs the arguments; an errno on failure. */
function prepare(env: HelperEnv, fmt: Uint8Array, args: readonly bigint[]): Uint8Array | number {
  const n = fmt.length;
  const f = new Uint8Array(n + 3); // NUL sentinels for the look-ahead
  f.set(fmt);
  // Slack past the end: pass 2 may read beyond what pass 1 wrote.
  const bin = new Uint8Array(BIN_ARGS + 64);
  const view = new DataView(bin.buffer);
  let t = 0;
  let spec = 0;

  const storeNumber = (v: bigint, bytes: 4 | 8): number => {
    t = (t + 3) & ~3;
    if (BIN_ARGS - t < bytes) return Errno.ENOSPC;
    if (bytes === 8) view.setBigUint64(t, BigInt.asUintN(64, v), true);
    else view.setUint32(t, Number(v & 0xffffffffn), true);
    t += bytes;
    return 0;
  };
  /** Formatted text stored the way snprintf into the rest of the buffer leaves it. */
  const storeText = (text: string): void => {
    const room = BIN_ARGS - t;
    if (room > 0) {
      const k = Math.min(text.length, room - 1);
      for (let j = 0; j < k; j++) bin[t + j] = text.charCodeAt(j);
      bin[t + k] = 0;
    }
    t += text.length + 1;
  };

  for (let i = 0; i < n; i++) {
    const c = f[i]!;
    if (c >= 0x80 || !(isPrint(c) || isSpace(c))) return Errno.EINVAL;
    if (c !== PCT) continue;
    if (f[i + 1] === PCT) { i++; continue; }
    if (spec >= args.length) return Errno.EINVAL;
    const arg = args[spec]!;
    i++;
    while (f[i] === ch('0') || f[i] === ch('+') || f[i] === ch('-') || f[i] === ch(' ')) i++;
    if (f[i]! >= ch('1') && f[i]! <= ch('9')) {
      i++;
      while (isDigit(f[i]!)) i++;
    }

    let stringSpec = false;
    if (f[i] === ch('p')) {
      const n1 = f[i + 1]!;
      if ((n1 === ch('k') || n1 === ch('u')) && f[i + 2] === ch('s')) {
        i += 2;
        stringSpec = true;
      } else if (n1 === 0 || isSpace(n1) || isPunct(n1) || n1 === ch('K') || n1 === ch('x') || n1 === ch('s') || n1 === ch('S')) {
        // A pointer printed as a number (or a symbol): pass 2 formats it.
        i++;
        const e = storeNumber(arg, 8);
        if (e) return e;
        spec++;
        continue;
      } else if (n1 === ch('B')) {
        storeText(symbolText(arg));
        i++;
        spec++;
        continue;
      } else {
        if ((n1 !== ch('i') && n1 !== ch('I')) || (f[i + 2] !== ch('4') && f[i + 2] !== ch('6'))) return Errno.EINVAL;
        i += 2;
        const len = f[i] === ch('4') ? 4 : 16;
        if (BIN_ARGS - t < len) return Errno.ENOSPC;
        const ip = probeBytes(env, arg, len) ?? new Uint8Array(len);
        storeText(ipText(f[i - 1] === ch('I'), ip));
        spec++;
        continue;
      }
    } else if (f[i] === ch('s')) {
      stringSpec = true;
    } else if (f[i] === ch('c')) {
      if (t >= BIN_ARGS) return Errno.ENOSPC;
      bin[t++] = Number(arg & 0xffn);
      spec++;
      continue;
    }

    if (stringSpec) {
      const next = f[i + 1]!;
      if (next !== 0 && !isSpace(next) && !isPunct(next)) return Errno.EINVAL;
      if (t >= BIN_ARGS) return Errno.ENOSPC;
      // An unreadable string is copied as "" (the kernel zeroes the first byte).
      const s = probeString(env, arg, BIN_ARGS - t) ?? new Uint8Array(0);
      bin.set(s, t);
      bin[t + s.length] = 0;
      t += s.length + 1;
      spec++;
      continue;
    }

    let bytes: 4 | 8 = 4;
    if (f[i] === ch('l')) { bytes = 8; i++; }
    if (f[i] === ch('l')) { bytes = 8; i++; }
    const conv = f[i]!;
    if (conv !== ch('i') && conv !== ch('d') && conv !== ch('u') && conv !== ch('x') && conv !== ch('X')) return Errno.EINVAL;
    const e = storeNumber(arg, bytes);
    if (e) return e;
    spec++;
  }
  return bin;
}

/** %pI4 / %pi4 / %pI6 / %pi6 (network order; `i` is zero-padded and, for IPv6, without colons). */
function ipText(colons: boolean, b: Uint8Array): string {
  if (b.length === 4) return [...b].map((x) => (colons ? String(x) : String(x).padStart(3, '0'))).join('.');
  const groups: string[] = [];
  for (let k = 0; k < 16; k += 2) groups.push(b[k]!.toString(16).padStart(2, '0') + b[k + 1]!.toString(16).padStart(2, '0'));
  return groups.join(colons ? ':' : '');
}
