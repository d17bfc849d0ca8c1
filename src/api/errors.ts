/**
 * One error for both backends. A vm map throws `MapError`, the kernel
 * `KernelError`, a vm hook `HookError`; through the collection API each
 * becomes a `CollectionError` with the errno bpf(2) gives (`errnoName`
 * `ENOENT`, `EEXIST`, `EINVAL`...), so callers check one thing whichever
 * backend ran. The backend's own error stays available as `cause`.
 */
import { TsbpfError } from '../errors.js';
import { errnoName as kernelErrnoName, errnoNumber, errnoText } from '../kernel/constants.js';
import { KernelError } from '../kernel/errors.js';
import { HookError } from '../vm/hooks/index.js';
import { MapError } from '../vm/maps/index.js';

export type BackendName = 'vm' | 'kernel';

/**
 * A map or program operation of a loaded collection failed. `code` is always
 * `ECOLLECTION`; `errno`/`errnoName` are what bpf(2) reports for the same
 * call on the kernel (the vm gives the same names); `op` is the operation
 * (`lookup`, `update`, `test_run`...) and `target` the map or program.
 */
export class CollectionError extends TsbpfError {
  readonly errno: number;
  readonly errnoName: string;
  readonly backend: BackendName;
  readonly op: string;
  readonly target: string;

  constructor(backend: BackendName, op: string, target: string, errno: number | string, detail: string, cause?: unknown) {
    const num = typeof errno === 'number' ? errno : errnoNumber(errno) ?? 0;
    const name = typeof errno === 'string' ? errno : kernelErrnoName(errno);
    super('ECOLLECTION', `${target}: ${op}: ${name}: ${detail}`, { backend, op, target, errno: num, errnoName: name });
    this.errno = num;
    this.errnoName = name;
    this.backend = backend;
    this.op = op;
    this.target = target;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** The part of a backend's message after its own `... OP: ENAME:` prefix, if it has one. */
function detailOf(e: Error): string {
  const m = /:\s*E[A-Z0-9]+(?: \([^)]*\))?:\s*(.*)$/s.exec(e.message);
  return m ? m[1]! : e.message;
}

/**
 * The error a backend threw, as the API throws it: errno-carrying errors
 * become `CollectionError`; anything else (a vm fault, a closed collection,
 * a bug) goes through unchanged.
 */
export function normalise(e: unknown, backend: BackendName, op: string, target: string): unknown {
  if (e instanceof CollectionError) return e;
  if (e instanceof MapError) return new CollectionError(backend, op, target, e.errno, detailOf(e), e);
  if (e instanceof KernelError) return new CollectionError(backend, op, target, e.errno, `${errnoText(e.errno)} (${e.command})`, e);
  // Frames and ctx the kernel's test-run refuses with EINVAL.
  if (e instanceof HookError && (e.code === 'EFRAME' || e.code === 'ECTXIN')) return new CollectionError(backend, op, target, 'EINVAL', e.message, e);
  // KernelMap's own argument checks (sizes): what the vm reports as EINVAL.
  if (e instanceof TsbpfError && e.code === 'EMAPARG') return new CollectionError(backend, op, target, 'EINVAL', e.message, e);
  return e;
}

/** Runs `fn`, throwing what it throws through `normalise`. */
export function guard<T>(backend: BackendName, op: string, target: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw normalise(e, backend, op, target);
  }
}
