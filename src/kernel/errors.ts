import { TsbpfError } from '../errors.js';
import { errnoName, errnoText } from './constants.js';

/**
 * A bpf(2) call that the kernel refused. `errno` is the raw number,
 * `errnoName` its symbolic name (`EACCES`), `command` the bpf(2) command
 * (`BPF_PROG_LOAD`) and `log` the verifier log, when there is one.
 */
export class KernelError extends TsbpfError {
  readonly errno: number;
  readonly errnoName: string;
  readonly command: string;
  readonly log: string;

  constructor(command: string, errno: number, log = '', detail?: string) {
    const name = errnoName(errno);
    const last = lastMeaningfulLine(log);
    const message =
      `${command} failed: ${name} (${errnoText(errno)})` +
      (detail ? `: ${detail}` : '') +
      (last ? `; verifier: ${last}` : '');
    super('EKERNEL', message, { command, errno, errnoName: name });
    this.errno = errno;
    this.errnoName = name;
    this.command = command;
    this.log = log;
  }
}

/**
 * The kernel cannot be used from here at all: not Linux, an unsupported
 * architecture, or the FFI library (koffi) does not load.
 */
export class KernelUnavailableError extends TsbpfError {
  constructor(reason: string) {
    super('ENOKERNEL', `the kernel's eBPF is not usable: ${reason}`, { reason });
  }
}

/** The verifier's conclusion is usually the last line that is not a statistic. */
function lastMeaningfulLine(log: string): string {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  for (let k = lines.length - 1; k >= 0; k--) {
    const l = lines[k]!;
    if (/^(processed \d+ insns|verification time|stack depth|mark_read)/.test(l)) continue;
    return l;
  }
  return '';
}
