import { AsmError } from './errors.js';

/**
 * Splits one line of assembly into tokens. Both syntaxes share this lexer:
 *
 * - `ident`: `[A-Za-z_.][A-Za-z0-9_.]*`, optionally with a leading `%` when a
 *   letter follows (`%r1` is one token).
 * - `num`: a decimal or `0x` hex magnitude (signs are separate tokens), kept
 *   as a bigint so that range checks are exact.
 * - `punct`: operators and brackets, longest match first. The LLVM signed
 *   operators `s>`, `s>=`, `s<`, `s<=`, `s>>=`, `s/=`, `s%=` are one token.
 *
 * Comments start with `;`, `//` or `#` and run to the end of the line,
 * wherever they stand (`exit# done`). The one exception, in the LLVM syntax
 * only, is the kernel's `call NAME#N` (`call bpf_map_lookup_elem#1`): a `#`
 * that joins the identifier after `call` to a number is a token.
 */
export interface Token {
  kind: 'ident' | 'num' | 'punct';
  text: string;
  /** 1-based column of the first character. */
  col: number;
  /** Magnitude of a `num` token (0n for other kinds). */
  value: bigint;
  /** True for a `num` written in hex. */
  hex: boolean;
}

export interface LexOptions {
  /** The `#` of `call NAME#N` is a token (LLVM syntax). */
  hashAfterIdent: boolean;
}

const PUNCT = [
  's>>=', 's>=', 's<=', 's/=', 's%=', 's>', 's<',
  '<<=', '>>=',
  '+=', '-=', '*=', '/=', '%=', '|=', '&=', '^=', '==', '!=', '>=', '<=',
  '>', '<', '&', '=', '+', '-', '*', '(', ')', '[', ']', ',', ':',
];

/** Operators by first character (the `s` operators are found after an `s` identifier). */
const PUNCT_BY_CHAR = new Map<string, string[]>();
for (const p of PUNCT) {
  if (p.startsWith('s')) continue;
  PUNCT_BY_CHAR.set(p[0]!, [...(PUNCT_BY_CHAR.get(p[0]!) ?? []), p]);
}

const isLetter = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '.';
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isWord = (c: string): boolean => isLetter(c) || isDigit(c);
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\v' || c === '\f';

/** Numbers longer than this are out of every range; refuse before BigInt sees them. */
const MAX_NUMBER_CHARS = 24;

export function tokenize(src: string, line: number, opts: LexOptions): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (isSpace(c)) { i++; continue; }
    if (c === ';') break;
    if (c === '/' && src[i + 1] === '/') break;
    if (c === '#') {
      if (!(opts.hashAfterIdent && isCallHash(src, i, out))) break;
      out.push({ kind: 'punct', text: '#', col: i + 1, value: 0n, hex: false });
      i++;
      continue;
    }
    const start = i;
    if (isLetter(c) || (c === '%' && i + 1 < n && isLetter(src[i + 1]!))) {
      i++;
      while (i < n && isWord(src[i]!)) i++;
      const text = src.slice(start, i);
      if (text === 's') {
        const op = PUNCT.find((p) => p.startsWith('s') && src.startsWith(p, start));
        if (op) {
          out.push({ kind: 'punct', text: op, col: start + 1, value: 0n, hex: false });
          i = start + op.length;
          continue;
        }
      }
      out.push({ kind: 'ident', text, col: start + 1, value: 0n, hex: false });
      continue;
    }
    if (isDigit(c)) {
      while (i < n && isWord(src[i]!)) i++;
      const text = src.slice(start, i);
      out.push(number(text, line, start + 1));
      continue;
    }
    const op = PUNCT_BY_CHAR.get(c)?.find((p) => src.startsWith(p, i));
    if (!op) {
      const shown = c.charCodeAt(0) < 32 || c.charCodeAt(0) > 126 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c;
      throw new AsmError(`unexpected character '${shown}'`, line, i + 1);
    }
    out.push({ kind: 'punct', text: op, col: i + 1, value: 0n, hex: false });
    i += op.length;
  }
  return out;
}

/** True for the `#` of `call NAME#N` (or `#-N`): right after NAME, right before the number. */
function isCallHash(src: string, i: number, out: readonly Token[]): boolean {
  const name = out[out.length - 1];
  if (name?.kind !== 'ident' || name.col - 1 + name.text.length !== i) return false;
  const call = out[out.length - 2];
  if (call?.kind !== 'ident' || call.text !== 'call') return false;
  const next = src[i + 1] === '-' ? src[i + 2] : src[i + 1];
  return next !== undefined && isDigit(next);
}

function number(text: string, line: number, col: number): Token {
  const hex = /^0[xX][0-9a-fA-F]+$/.test(text);
  if (!hex && !/^[0-9]+$/.test(text)) throw new AsmError(`malformed number '${clip(text)}'`, line, col);
  if (text.length > MAX_NUMBER_CHARS) throw new AsmError(`number '${clip(text)}' is out of range`, line, col);
  return { kind: 'num', text, col, value: BigInt(text), hex };
}

/** Shortens text quoted in an error message. */
export function clip(text: string): string {
  return text.length > 32 ? `${text.slice(0, 29)}...` : text;
}

/** Splits text into lines (LF, CRLF or CR). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** What a leading instruction index said about the line (see `splitIndexPrefix`). */
export interface IndexPrefix {
  /** The line with the prefix replaced by spaces, so that columns stay right. */
  text: string;
  /** The verifier's `(xx)` opcode, and the 1-based column of its `(`. */
  opcode?: { value: number; col: number };
  /** The raw bytes `llvm-objdump -d` shows (8, or 16 for an lddw), and the column of the first. */
  bytes?: { value: Uint8Array; col: number };
}

/** `llvm-objdump -d`: `  12:\t b7 00 00 00 01 00 00 00\t r0 = 1` (16 bytes for an lddw). */
const OBJDUMP_LINE = /^(\s*\d+:\s+)((?:[0-9a-fA-F]{2}[ \t]+){8}(?:(?:[0-9a-fA-F]{2}[ \t]+){8})?)/;
/**
 * The kernel verifier log: `12: (b7) r0 = 1`, and at log_level 2 the "Live
 * regs" listing, `  1  12: .1.345.... (b7) r0 = 1`: an optional loop (SCC)
 * number, the index, one liveness mark per register r0-r9, and on newer
 * kernels a prune-point mark `p` or `P`.
 */
const VERIFIER_LINE = /^(\s*(?:\d+\s+)?\d+:\s*(?:[.0-9]{10}\s+(?:[pP]\s+)?)?)\(([0-9a-fA-F]{2})\)\s*/;
/** `disassemble(..., { pcs: true })`: `12: r0 = 1`. */
const INDEX_ONLY = /^\s*\d+:/;

/**
 * Recognizes a leading instruction index, as printed by `llvm-objdump -d`
 * (with the raw bytes after it), by the kernel verifier log (with the opcode
 * in parentheses after it) or by `disassemble(..., { pcs: true })`, and
 * blanks it out. The bytes and the opcode are returned so that the parser can
 * check the instruction against them.
 */
export function splitIndexPrefix(src: string): IndexPrefix {
  const blank = (n: number): string => ' '.repeat(n) + src.slice(n);
  let m = OBJDUMP_LINE.exec(src);
  if (m) {
    const hexes = m[2]!.trim().split(/\s+/);
    const value = Uint8Array.from(hexes, (h) => parseInt(h, 16));
    return { text: blank(m[0].length), bytes: { value, col: m[1]!.length + 1 } };
  }
  m = VERIFIER_LINE.exec(src);
  if (m) return { text: blank(m[0].length), opcode: { value: parseInt(m[2]!, 16), col: m[1]!.length + 1 } };
  m = INDEX_ONLY.exec(src);
  return { text: m ? blank(m[0].length) : src };
}

/** Blanks out a leading instruction index (see `splitIndexPrefix`). */
export function stripIndexPrefix(src: string): string {
  return splitIndexPrefix(src).text;
}
