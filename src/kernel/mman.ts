/**
 * Shared memory mappings of kernel objects (ring buffer maps, perf event
 * rings) through libc's mmap(2)/munmap(2), declared on first use.
 */
import { KernelError } from './errors.js';
import { type Ffi, loadFfi } from './syscall.js';

export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
const MAP_SHARED = 0x1;
/** glibc's `_SC_PAGESIZE`. */
const SC_PAGESIZE = 30;
/** `(void *)-1`. */
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

interface Mman {
  koffi: Ffi['koffi'];
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  munmap: (addr: unknown, len: number) => number;
  pageSize: number;
}

let mman: Mman | undefined;

function loadMman(): Mman {
  if (mman) return mman;
  const { koffi, libc } = loadFfi();
  const mmap = libc.func('void *mmap(void *, size_t, int, int, int, int64_t)') as Mman['mmap'];
  const munmap = libc.func('int munmap(void *, size_t)') as Mman['munmap'];
  const sysconf = libc.func('long sysconf(int)') as (name: number) => number | bigint;
  const size = Number(sysconf(SC_PAGESIZE));
  mman = { koffi, mmap, munmap, pageSize: size > 0 ? size : 4096 };
  return mman;
}

/** The system page size. */
export function pageSize(): number {
  return loadMman().pageSize;
}

/** A live shared mapping: its address, length and an ArrayBuffer over it. */
export interface Mapping {
  readonly ptr: unknown;
  readonly len: number;
  readonly buffer: ArrayBuffer;
}

/** mmap(2) `len` bytes of `fd` at `offset`, shared; `what` names it in the error. */
export function mapShared(fd: number, len: number, prot: number, offset: number, what: string): Mapping {
  const m = loadMman();
  const ptr = m.mmap(null, len, prot, MAP_SHARED, fd, offset);
  if (ptr === null || m.koffi.address(ptr) === MAP_FAILED) {
    throw new KernelError('mmap', m.koffi.errno(), '', `${what} (fd ${fd}, ${len} bytes at offset ${offset})`);
  }
  return { ptr, len, buffer: m.koffi.view(ptr, len) };
}

/** munmap(2). The mapping's buffer must not be touched afterwards. */
export function unmap(r: Mapping): void {
  const m = loadMman();
  if (m.munmap(r.ptr, r.len) < 0) throw new KernelError('munmap', m.koffi.errno());
}
