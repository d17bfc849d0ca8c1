/**
 * The kernel's log for the load commands that take one (BPF_PROG_LOAD: the
 * verifier log; BPF_BTF_LOAD: the BTF checker's log): the buffer grows while
 * the kernel answers ENOSPC, and a failed load without a log is repeated once
 * at level 1 so that the error can say why.
 */
import { commandName } from './constants.js';
import { KernelError } from './errors.js';
import { addressOf, bpfRaw } from './syscall.js';

const ENOSPC = 28;
const EPERM = 1;
/** The kernel refuses a log buffer larger than `UINT_MAX >> 2`; stop well before. */
const MAX_LOG_SIZE = 1 << 28;
const DEFAULT_LOG_SIZE = 1 << 16;
const MIN_LOG_SIZE = 128;
/** Log size used to fetch the kernel's explanation after a failed load without log. */
const FAILURE_LOG_SIZE = 1 << 20;

/** Byte offsets in the command's `bpf_attr` of its log fields. */
export interface LogFields {
  /** u32 log level. */
  readonly level: number;
  /** u32 size of the buffer. */
  readonly size: number;
  /** u64 address of the buffer. */
  readonly buf: number;
  /** u32 the kernel sets to the size the whole log needs (`log_true_size`). */
  readonly trueSize: number;
}

export interface LogOptions {
  /** 0 (the default) asks for no log. */
  logLevel?: number;
  /** Initial log buffer size; grown automatically when the kernel reports ENOSPC. */
  logSize?: number;
}

/** The NUL-terminated text in a log buffer. */
export function logText(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
}

/**
 * Runs `cmd` with `attr` (everything but the log fields already filled in)
 * and returns the new fd with the log, which is empty unless a log level was
 * requested. On failure throws a `KernelError` carrying the kernel's log.
 */
export function loadWithLog(cmd: number, attr: Uint8Array, at: LogFields, opts: LogOptions): { fd: number; log: string } {
  const view = new DataView(attr.buffer, attr.byteOffset, attr.byteLength);
  const requested = opts.logLevel ?? 0;
  let level = requested;
  let size = level ? Math.max(opts.logSize ?? DEFAULT_LOG_SIZE, MIN_LOG_SIZE) : 0;
  for (;;) {
    const log = new Uint8Array(size);
    view.setUint32(at.level, level, true);
    view.setUint32(at.size, size, true);
    view.setBigUint64(at.buf, addressOf(log), true);
    view.setUint32(at.trueSize, 0, true);
    const ret = bpfRaw(cmd, attr);
    if (ret >= 0) return { fd: ret, log: level === requested ? logText(log) : '' };
    const errno = -ret;
    if (errno === ENOSPC && level > 0 && size < MAX_LOG_SIZE) {
      size = Math.min(MAX_LOG_SIZE, Math.max(size * 2, view.getUint32(at.trueSize, true) + 1));
      continue;
    }
    if (level === 0 && errno !== EPERM) {
      level = 1;
      size = FAILURE_LOG_SIZE;
      continue;
    }
    throw new KernelError(commandName(cmd), errno, logText(log));
  }
}
