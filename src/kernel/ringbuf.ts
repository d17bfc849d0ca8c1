/**
 * `RingBufReader`: the consumer side of a BPF_MAP_TYPE_RINGBUF map, read
 * through mmap(2) without any bpf(2) call per record.
 *
 * Layout the kernel exposes (kernel/bpf/ringbuf.c, Documentation/bpf/ringbuf.rst):
 * - file offset 0, one page, read-write: the consumer position (u64 at byte 0),
 *   which only user space advances;
 * - file offset one page, read-only: the producer position (u64 at byte 0) on
 *   its own page, followed by the data area, mapped twice in a row so that a
 *   record that wraps around the end can be read contiguously;
 * - each record is an 8-byte header (u32 length with the busy bit 31 and the
 *   discard bit 30, u32 page offset used by the kernel) and its payload, the
 *   whole rounded up to 8 bytes. Positions only grow; `pos & (size - 1)` is
 *   the offset in the data area.
 * Records are committed in reservation order, so reading stops at the first
 * one still busy (reserved and not yet submitted or discarded).
 */
import { TsbpfError } from '../errors.js';
import { MapType, mapTypeName } from '../object/kinds.js';
import { KernelError } from './errors.js';
import { mapInfo } from './info.js';
import type { KernelMap } from './map.js';
import { type Ffi, loadFfi } from './syscall.js';

const PROT_READ = 0x1;
const PROT_WRITE = 0x2;
const MAP_SHARED = 0x1;
/** glibc's `_SC_PAGESIZE`. */
const SC_PAGESIZE = 30;
/** `(void *)-1`. */
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

export const RINGBUF_BUSY_BIT = 0x8000_0000;
export const RINGBUF_DISCARD_BIT = 0x4000_0000;
export const RINGBUF_HDR_SIZE = 8;

/** A ring buffer reader misused, or a ring buffer that does not look like one. */
export class RingBufError extends TsbpfError {
  constructor(code: string, message: string, where: Record<string, unknown>) {
    super(code, message, where);
  }
}

interface Mman {
  koffi: Ffi['koffi'];
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  munmap: (addr: unknown, len: number) => number;
  pageSize: number;
}

let mman: Mman | undefined;

/** libc's mmap/munmap, declared on first use through the bpf(2) FFI (syscall.ts). */
function loadMman(): Mman {
  if (mman) return mman;
  const { koffi, libc } = loadFfi();
  const mmap = libc.func('void *mmap(void *, size_t, int, int, int, int64_t)') as Mman['mmap'];
  const munmap = libc.func('int munmap(void *, size_t)') as Mman['munmap'];
  const sysconf = libc.func('long sysconf(int)') as (name: number) => number | bigint;
  const pageSize = Number(sysconf(SC_PAGESIZE));
  mman = { koffi, mmap, munmap, pageSize: pageSize > 0 ? pageSize : 4096 };
  return mman;
}

/** The system page size (what the ring buffer's pages and offsets are counted in). */
export function pageSize(): number {
  return loadMman().pageSize;
}

interface Mapping {
  ptr: unknown;
  len: number;
}

function mapRegion(m: Mman, fd: number, len: number, prot: number, offset: number, what: string): Mapping {
  const ptr = m.mmap(null, len, prot, MAP_SHARED, fd, offset);
  if (ptr === null || m.koffi.address(ptr) === MAP_FAILED) {
    throw new KernelError('mmap', m.koffi.errno(), '', `ring buffer ${what} (fd ${fd}, ${len} bytes at offset ${offset})`);
  }
  return { ptr, len };
}

function unmapRegion(m: Mman, r: Mapping): void {
  if (m.munmap(r.ptr, r.len) < 0) throw new KernelError('munmap', m.koffi.errno());
}

const isPowerOfTwo = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

/**
 * Reads a kernel ring buffer map through shared memory. `size` is the data
 * area size (the map's max_entries); it is asked from the kernel when
 * omitted. The reader does not own the map's fd: closing it unmaps the
 * memory only, and the map stays alive while it is mapped.
 *
 * Records are returned as copies, so they stay valid after `close()`.
 */
export class RingBufReader {
  /** Bytes of the data area (a power-of-2 multiple of the page size). */
  readonly size: number;
  readonly fd: number;
  #mask: bigint;
  #m: Mman;
  #consumerMap: Mapping | null;
  #producerMap: Mapping | null;
  /** Views into the mappings; dropped on close, never handed out. */
  #consumer: BigUint64Array | null;
  #producer: BigUint64Array | null;
  #headers: Uint32Array | null;
  #data: Uint8Array | null;

  constructor(map: KernelMap | number, size?: number) {
    const fd = typeof map === 'number' ? map : map.fd;
    if (!Number.isInteger(fd) || fd < 0) {
      throw new RingBufError('EARG', `ring buffer fd must be a non-negative integer, got ${String(fd)}`, { fd });
    }
    const m = loadMman();
    let dataSize = size;
    if (dataSize === undefined) {
      const info = mapInfo(fd);
      if (info.type !== MapType.RINGBUF) {
        throw new RingBufError('ERINGBUF', `fd ${fd} is a ${mapTypeName(info.type)} map, not a ringbuf`, { fd, type: info.type });
      }
      dataSize = info.maxEntries;
    }
    if (!isPowerOfTwo(dataSize) || dataSize % m.pageSize !== 0) {
      throw new RingBufError('ERINGBUF', `ring buffer size ${dataSize} is not a power-of-2 multiple of the page size ${m.pageSize}`, {
        fd, size: dataSize, pageSize: m.pageSize,
      });
    }
    this.fd = fd;
    this.size = dataSize;
    this.#mask = BigInt(dataSize - 1);
    this.#m = m;
    const consumerMap = mapRegion(m, fd, m.pageSize, PROT_READ | PROT_WRITE, 0, 'consumer page');
    let producerMap: Mapping;
    try {
      producerMap = mapRegion(m, fd, m.pageSize + 2 * dataSize, PROT_READ, m.pageSize, 'producer page and data');
    } catch (e) {
      unmapRegion(m, consumerMap);
      throw e;
    }
    this.#consumerMap = consumerMap;
    this.#producerMap = producerMap;
    const consumerBuf = m.koffi.view(consumerMap.ptr, consumerMap.len);
    const producerBuf = m.koffi.view(producerMap.ptr, producerMap.len);
    this.#consumer = new BigUint64Array(consumerBuf, 0, 1);
    this.#producer = new BigUint64Array(producerBuf, 0, 1);
    this.#headers = new Uint32Array(producerBuf, m.pageSize, (2 * dataSize) / 4);
    this.#data = new Uint8Array(producerBuf, m.pageSize, 2 * dataSize);
  }

  get closed(): boolean {
    return this.#consumerMap === null;
  }

  #views(): { consumer: BigUint64Array; producer: BigUint64Array; headers: Uint32Array; data: Uint8Array } {
    if (!this.#consumer || !this.#producer || !this.#headers || !this.#data) {
      throw new RingBufError('ECLOSED', `ring buffer reader of fd ${this.fd} has been closed`, { fd: this.fd });
    }
    return { consumer: this.#consumer, producer: this.#producer, headers: this.#headers, data: this.#data };
  }

  /** The consumer position (bytes consumed since the map was created). */
  get consumerPosition(): bigint {
    return Atomics.load(this.#views().consumer, 0);
  }

  /** The producer position (bytes reserved since the map was created). */
  get producerPosition(): bigint {
    return Atomics.load(this.#views().producer, 0);
  }

  /** Bytes between the consumer and producer positions (headers, padding and uncommitted records included). */
  get available(): number {
    const v = this.#views();
    return Number(Atomics.load(v.producer, 0) - Atomics.load(v.consumer, 0));
  }

  /**
   * Every committed record available now (at most `limit`), in order,
   * skipping discarded ones; advances the consumer position past what it
   * returns (and past the discarded records before it). Stops at the first
   * record still being written.
   */
  read(limit = Infinity): Uint8Array[] {
    if (!(limit >= 0)) throw new RingBufError('EARG', `read limit must be non-negative, got ${String(limit)}`, { limit });
    const v = this.#views();
    const out: Uint8Array[] = [];
    let cons = Atomics.load(v.consumer, 0);
    const start = cons;
    outer: while (out.length < limit) {
      const prod = Atomics.load(v.producer, 0);
      if (cons >= prod) break;
      while (cons < prod && out.length < limit) {
        const at = Number(cons & this.#mask);
        const word = Atomics.load(v.headers, at / 4);
        if (word & RINGBUF_BUSY_BIT) break outer;
        const len = word & ~(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT);
        if (len > this.size - RINGBUF_HDR_SIZE) {
          throw new RingBufError('ERINGBUF', `ring buffer record at position ${cons} claims ${len} bytes in a ${this.size}-byte ring`, {
            fd: this.fd, position: cons, len,
          });
        }
        if (!(word & RINGBUF_DISCARD_BIT)) out.push(v.data.slice(at + RINGBUF_HDR_SIZE, at + RINGBUF_HDR_SIZE + len));
        cons += BigInt((len + RINGBUF_HDR_SIZE + 7) & ~7);
      }
    }
    // One 8-byte store; the kernel may reuse the space as soon as it sees it.
    if (cons !== start) Atomics.store(v.consumer, 0, cons);
    return out;
  }

  /** Unmaps the ring buffer (the map's fd stays open). Idempotent. */
  close(): void {
    const consumerMap = this.#consumerMap;
    const producerMap = this.#producerMap;
    if (!consumerMap) return;
    this.#consumer = this.#producer = null;
    this.#headers = null;
    this.#data = null;
    this.#consumerMap = this.#producerMap = null;
    let failure: unknown;
    for (const r of [consumerMap, producerMap]) {
      if (!r) continue;
      try {
        unmapRegion(this.#m, r);
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure) throw failure;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
