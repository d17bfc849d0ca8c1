import { TsbpfError } from '../errors.js';
import { VmFault } from '../vm/errors.js';

/** Exit codes of every command. */
export const EXIT_OK = 0;
export const EXIT_FAULT = 1;
export const EXIT_BAD_INPUT = 2;

/** Exit code for an error: 1 for a run that faulted or ran out of budget, 2 for everything else. */
export function exitCodeFor(e: unknown): number {
  return e instanceof VmFault ? EXIT_FAULT : EXIT_BAD_INPUT;
}

/** The `{"error": ...}` object of `--json` output. */
export function errorJson(e: unknown): { error: { code: string; message: string; insn: number | null; address: string | null; region: string | null } } {
  if (e instanceof VmFault) {
    return {
      error: {
        code: e.code,
        message: e.message,
        insn: e.insn,
        address: e.address === null ? null : `0x${e.address.toString(16)}`,
        region: e.region,
      },
    };
  }
  if (e instanceof TsbpfError) {
    const insn = typeof e.where['insn'] === 'number' ? (e.where['insn'] as number) : null;
    return { error: { code: e.code, message: e.message, insn, address: null, region: null } };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { error: { code: 'EINTERNAL', message: msg, insn: null, address: null, region: null } };
}

/** Prints an error readably (or as JSON) and returns the exit code. */
export function reportError(e: unknown, json: boolean): number {
  if (json) {
    process.stdout.write(JSON.stringify(errorJson(e)) + '\n');
  } else if (e instanceof TsbpfError) {
    process.stderr.write(`tsbpf: error [${e.code}]: ${e.message}\n`);
  } else {
    process.stderr.write(`tsbpf: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  }
  return exitCodeFor(e);
}
