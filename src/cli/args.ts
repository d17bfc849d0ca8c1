import { TsbpfError } from '../errors.js';

/** Bad command-line usage: exit code 2. */
export class UsageError extends TsbpfError {
  constructor(message: string) {
    super('EUSAGE', message);
  }
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

/**
 * Parses `--flag`, `--flag value`, `--flag=value` and `-o value`. `valued`
 * lists the flags that take a value; anything else starting with `-` must be
 * in `bools`.
 */
export function parseArgs(argv: readonly string[], valued: readonly string[], bools: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--') { positionals.push(...argv.slice(k + 1)); break; }
    if (a.startsWith('-') && a.length > 1) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (valued.includes(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++k];
        if (v === undefined) throw new UsageError(`${name} needs a value`);
        flags.set(name, v);
      } else if (bools.includes(name) && eq < 0) {
        flags.set(name, true);
      } else {
        throw new UsageError(`unknown option ${name}`);
      }
    } else {
      positionals.push(a);
    }
  }
  return { positionals, flags };
}

/** A positive integer flag value. */
export function intFlag(p: ParsedArgs, name: string, dflt: number, min = 1): number {
  const v = p.flags.get(name);
  if (v === undefined) return dflt;
  if (v === true || !/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`${name} needs an integer >= ${min}, got ${v === true ? 'nothing' : JSON.stringify(v)}`);
  }
  return Number(v);
}
