import { AsmError } from './errors.js';
import { clip, type Token } from './lexer.js';

/** Walks the tokens of one line; every failure is an `AsmError` at a token. */
export class Cursor {
  private pos = 0;

  constructor(
    readonly toks: readonly Token[],
    readonly line: number,
    /** Column just past the end of the line, for "missing ..." errors. */
    readonly endCol: number,
  ) {}

  peek(k = 0): Token | undefined {
    return this.toks[this.pos + k];
  }

  /** True when the next token's text is `text`. */
  is(text: string, k = 0): boolean {
    const t = this.toks[this.pos + k];
    return t !== undefined && t.kind !== 'num' && t.text === text;
  }

  atEnd(): boolean {
    return this.pos >= this.toks.length;
  }

  /** Column of the next token, or of the line's end. */
  col(): number {
    return this.peek()?.col ?? this.endCol;
  }

  next(what = 'an operand'): Token {
    const t = this.toks[this.pos];
    if (!t) this.fail(`expected ${what}, found end of line`);
    this.pos++;
    return t;
  }

  /** Consumes the next token when its text is `text`. */
  eat(text: string): boolean {
    if (!this.is(text)) return false;
    this.pos++;
    return true;
  }

  expect(text: string): Token {
    const t = this.peek();
    if (!t || t.kind === 'num' || t.text !== text) {
      this.fail(t ? `expected '${text}', found '${clip(t.text)}'` : `expected '${text}', found end of line`, t);
    }
    this.pos++;
    return t;
  }

  /** Consumes an identifier. */
  ident(what: string): Token {
    const t = this.next(what);
    if (t.kind !== 'ident') this.fail(`expected ${what}, found '${clip(t.text)}'`, t);
    return t;
  }

  /** Fails unless every token was consumed. */
  end(): void {
    const t = this.peek();
    if (t) this.fail(`unexpected '${clip(t.text)}' (too many operands?)`, t);
  }

  fail(reason: string, at?: Token): never {
    throw new AsmError(reason, this.line, at?.col ?? this.col());
  }

  failAt(reason: string, col: number): never {
    throw new AsmError(reason, this.line, col);
  }
}
