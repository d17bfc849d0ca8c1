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
 * Comments start with `;`, `//` or `#` and run to the end of the line. In the
 * LLVM syntax a `#` right after an identifier character is a token instead,
 * so that the kernel's `call bpf_map_lookup_elem#1` can be read.
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
  /** `#` directly after an identifier character is a token (LLVM syntax). */
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
      const prev = i > 0 ? src[i - 1]! : ' ';
      if (!(opts.hashAfterIdent && isWord(prev))) break;
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

/**
 * Blanks out a leading instruction index, as printed by `llvm-objdump -d`
 * (`  12:\t b7 00 00 00 01 00 00 00\t r0 = 1`), by the kernel verifier log
 * (`12: (b7) r0 = 1`) or by `disassemble(..., { pcs: true })` (`12: r0 = 1`).
 * The prefix is replaced by spaces so that columns stay right.
 */
export function stripIndexPrefix(src: string): string {
  const m =
    /^\s*\d+:\s+(?:[0-9a-fA-F]{2}[ \t]+){8}(?:(?:[0-9a-fA-F]{2}[ \t]+){8})?/.exec(src) ??
    /^\s*\d+:\s*\([0-9a-fA-F]{2}\)\s*/.exec(src) ??
    /^\s*\d+:/.exec(src);
  return m ? ' '.repeat(m[0].length) + src.slice(m[0].length) : src;
}
