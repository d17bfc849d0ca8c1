import { createRequire } from 'node:module';
import { commandName } from './constants.js';
import { KernelError, KernelUnavailableError } from './errors.js';

type Koffi = typeof import('koffi');
type KoffiLib = ReturnType<Koffi['load']>;

/** bpf(2) syscall numbers per Node `process.arch`. */
const BPF_SYSCALL: Readonly<Record<string, number>> = { x64: 321, arm64: 280 };

/** The loaded FFI: koffi, libc, and the two libc functions bpf(2) use. */
export interface Ffi {
  koffi: Koffi;
  /** libc.so.6, for the other libc functions src/kernel declares (mmap...). */
  libc: KoffiLib;
  nr: number;
  syscall: (nr: number, cmd: number, attr: Uint8Array, size: number) => number;
  close: (fd: number) => number;
}

let ffi: Ffi | undefined;
let ffiProblem: string | undefined;

/**
 * Loads koffi and libc on first use, and throws `KernelUnavailableError`
 * (every time) when they cannot be. Importing this module never touches
 * the FFI, so it is safe on machines without Linux or koffi.
 */
export function loadFfi(): Ffi {
  if (ffi) return ffi;
  if (ffiProblem) throw new KernelUnavailableError(ffiProblem);
  try {
    if (process.platform !== 'linux') throw new Error(`not Linux (platform is ${process.platform})`);
    const nr = BPF_SYSCALL[process.arch];
    if (nr === undefined) throw new Error(`no bpf(2) syscall number known for architecture ${process.arch}`);
    let koffi: Koffi;
    try {
      koffi = createRequire(import.meta.url)('koffi') as Koffi;
    } catch (e) {
      throw new Error(`the FFI library koffi does not load: ${(e as Error).message}`);
    }
    const libc = koffi.load('libc.so.6');
    const syscall = libc.func('long syscall(long, long, void *, long)') as Ffi['syscall'];
    const close = libc.func('int close(int)') as Ffi['close'];
    ffi = { koffi, libc, nr, syscall, close };
    return ffi;
  } catch (e) {
    ffiProblem = (e as Error).message;
    throw new KernelUnavailableError(ffiProblem);
  }
}

/** Null when bpf(2) can be called through the FFI, otherwise why not. */
export function ffiUnavailable(): string | null {
  try {
    loadFfi();
    return null;
  } catch (e) {
    return e instanceof KernelUnavailableError ? String(e.where['reason']) : (e as Error).message;
  }
}

/** The user-space address of a byte array (0n for an empty one), for pointers in `bpf_attr`. */
export function addressOf(bytes: Uint8Array): bigint {
  if (bytes.byteLength === 0) return 0n;
  return loadFfi().koffi.address(bytes);
}

/** Calls bpf(2); returns the non-negative result, or the errno as a negative number. */
export function bpfRaw(cmd: number, attr: Uint8Array): number {
  const f = loadFfi();
  const ret = Number(f.syscall(f.nr, cmd, attr, attr.byteLength));
  return ret >= 0 ? ret : -f.koffi.errno();
}

/** Calls bpf(2); throws a `KernelError` when it fails. */
export function bpf(cmd: number, attr: Uint8Array): number {
  const ret = bpfRaw(cmd, attr);
  if (ret < 0) throw new KernelError(commandName(cmd), -ret);
  return ret;
}

/** close(2). Throws a `KernelError` (command `close`) when it fails. */
export function closeFd(fd: number): void {
  const f = loadFfi();
  if (f.close(fd) < 0) throw new KernelError('close', f.koffi.errno());
}
