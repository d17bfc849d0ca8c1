/**
 * The root of every error a user can cause. Each subclass carries a stable
 * `code` that scripts can match on, and a `where` object that says where the
 * problem is (an instruction index, a line and column, a file offset...).
 */
export class TsbpfError extends Error {
  readonly code: string;
  readonly where: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, where: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.where = where;
  }
}

export function isTsbpfError(e: unknown): e is TsbpfError {
  return e instanceof TsbpfError;
}
