import { TsbpfError } from '../errors.js';

/**
 * A problem in assembly text. `line` and `column` are 1-based and point at
 * the token that is wrong (or at the end of the line when something is
 * missing).
 */
export class AsmError extends TsbpfError {
  readonly line: number;
  readonly column: number;
  /** The message without the "line L, column C: " prefix. */
  readonly reason: string;

  constructor(reason: string, line: number, column: number) {
    super('EASM', `line ${line}, column ${column}: ${reason}`, { line, column });
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}
