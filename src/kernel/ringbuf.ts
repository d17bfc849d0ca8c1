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
import { mapInfo } from './info.js';
import type { KernelMap } from './map.js';
import { type Mapping, PROT_READ, PROT_WRITE, mapShared, pageSize, unmap } from './mman.js';
import { type EventSource, type EventsOptions, pollBatches, pollEvents } from './reader-events.js';

export { pageSize } from './mman.js';

export const RINGBUF_BUSY_BIT = 0x8000_0000;
export const RINGBUF_DISCARD_BIT = 0x4000_0000;
export const RINGBUF_HDR_SIZE = 8;

/** A ring buffer reader misused, or a ring buffer that does not look like one. */
export class RingBufError extends TsbpfError {
  constructor(code: string, message: string, where: Record<string, unknown>) {
    super(code, message, where);
  }
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
  #consumerMap: Mapping | null;
  #producerMap: Mapping | null;
  /** Views into the mappings; dropped on close, never handed out. */
  #consumer: BigUint64Array | null;
  #producer: BigUint64Array | null;
  #headers: Uint32Array | null;
  #data: Uint8Array | null;
  /** Stops of the live `events()` iterations. */
  #stops = new Set<() => void>();

  constructor(map: KernelMap | number, size?: number) {
    const fd = typeof map === 'number' ? map : map.fd;
    if (!Number.isInteger(fd) || fd < 0) {
      throw new RingBufError('EARG', `ring buffer fd must be a non-negative integer, got ${String(fd)}`, { fd });
    }
    const page = pageSize();
    let dataSize = size;
    if (dataSize === undefined) {
      const info = mapInfo(fd);
      if (info.type !== MapType.RINGBUF) {
        throw new RingBufError('ERINGBUF', `fd ${fd} is a ${mapTypeName(info.type)} map, not a ringbuf`, { fd, type: info.type });
      }
      dataSize = info.maxEntries;
    }
    if (!isPowerOfTwo(dataSize) || dataSize % page !== 0) {
      throw new RingBufError('ERINGBUF', `ring buffer size ${dataSize} is not a power-of-2 multiple of the page size ${page}`, {
        fd, size: dataSize, pageSize: page,
      });
    }
    this.fd = fd;
    this.size = dataSize;
    this.#mask = BigInt(dataSize - 1);
    const consumerMap = mapShared(fd, page, PROT_READ | PROT_WRITE, 0, 'ring buffer consumer page');
    let producerMap: Mapping;
    try {
      producerMap = mapShared(fd, page + 2 * dataSize, PROT_READ, page, 'ring buffer producer page and data');
    } catch (e) {
      unmap(consumerMap);
      throw e;
    }
    this.#consumerMap = consumerMap;
    this.#producerMap = producerMap;
    const consumerBuf = consumerMap.buffer;
    const producerBuf = producerMap.buffer;
    this.#consumer = new BigUint64Array(consumerBuf, 0, 1);
    this.#producer = new BigUint64Array(producerBuf, 0, 1);
    this.#headers = new Uint32Array(producerBuf, page, (2 * dataSize) / 4);
    this.#data = new Uint8Array(producerBuf, page, 2 * dataSize);
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

  /**
   * The records as they come, waiting on epoll (without blocking the event
   * loop) when the ring is empty. Ends when `signal` aborts or the reader
   * closes; breaking out of the loop ends it too. The threads and fds it
   * uses are released before the loop exits.
   */
  events(opts: EventsOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    return pollEvents(this.#source(), this.#stops, opts);
  }

  /** Like `events()`, one array per read (at most `opts.batch` records): less overhead per record. */
  batches(opts: EventsOptions = {}): AsyncGenerator<Uint8Array[], void, undefined> {
    return pollBatches(this.#source(), this.#stops, opts);
  }

  #source(): EventSource<Uint8Array> {
    const isClosed = (): boolean => this.closed;
    return { get closed() { return isClosed(); }, read: (n) => this.read(n), pollFds: () => [this.fd] };
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    return this.events();
  }

  /** Unmaps the ring buffer (the map's fd stays open) and ends every iteration of `events()`. Idempotent. */
  close(): void {
    const consumerMap = this.#consumerMap;
    const producerMap = this.#producerMap;
    if (!consumerMap) return;
    for (const stop of [...this.#stops]) stop();
    this.#consumer = this.#producer = null;
    this.#headers = null;
    this.#data = null;
    this.#consumerMap = this.#producerMap = null;
    let failure: unknown;
    for (const r of [consumerMap, producerMap]) {
      if (!r) continue;
      try {
        unmap(r);
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
