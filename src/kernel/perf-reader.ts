/**
 * `PerfEventArrayReader`: the consumer side of a BPF_MAP_TYPE_PERF_EVENT_ARRAY
 * map. Programs write with bpf_perf_event_output into the perf event stored
 * at the map's slot for a CPU (BPF_F_CURRENT_CPU: the one they run on); this
 * reader opens one `bpf-output` software event per CPU, stores its fd in the
 * map at key = cpu, and reads the event's ring through mmap(2).
 *
 * A perf ring (include/uapi/linux/perf_event.h) is one metadata page
 * (`struct perf_event_mmap_page`: data_head, the producer position, at byte
 * 1024; data_tail, the consumer's, at 1032; data_offset and data_size at 1040
 * and 1048) followed by 2^n data pages, mapped once, so a record may wrap
 * around the end. Records start with `struct perf_event_header` (u32 type,
 * u16 misc, u16 size) and are 8-byte aligned, so a header never wraps.
 * PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW carries a u32 size and the raw
 * bytes; the kernel pads them so that size + 4 is a multiple of 8, and the
 * padding is part of the sample. PERF_RECORD_LOST carries (id, lost).
 */
import { TsbpfError } from '../errors.js';
import { MapType, mapTypeName } from '../object/kinds.js';
import { BpfCommand } from './constants.js';
import { KernelError } from './errors.js';
import { mapInfo } from './info.js';
import type { KernelMap } from './map.js';
import { type Mapping, PROT_READ, PROT_WRITE, mapShared, pageSize, unmap } from './mman.js';
import { PerfType, SoftwareEvent, onlineCpus, perfEventOpen } from './perf-event.js';
import { type EventSource, type EventsOptions, pollBatches, pollEvents } from './reader-events.js';
import { addressOf, bpfRaw, closeFd } from './syscall.js';

const PERF_SAMPLE_RAW = 1 << 10;
const PERF_RECORD_LOST = 2;
const PERF_RECORD_SAMPLE = 9;
const PERF_RECORD_LOST_SAMPLES = 13;
const ATTR_SIZE = 128;
const HEADER_SIZE = 8;

/** One PERF_RECORD_SAMPLE's raw bytes (padding included), and the CPU whose ring held it. */
export interface PerfSample {
  cpu: number;
  data: Uint8Array;
}

export interface PerfReaderOptions {
  /** Data pages of each CPU's ring, a power of 2 (default 8). */
  pages?: number;
  /** The CPUs to read (default: every online CPU below the map's max_entries). */
  cpus?: readonly number[];
  /** Samples written before the kernel wakes a waiter (default 1). */
  wakeupEvents?: number;
  /** Called by `read()` for every lost-records report, with the count the kernel dropped. */
  onLost?: (cpu: number, count: number) => void;
}

/** A perf event array reader misused, or a ring that does not look like one. */
export class PerfBufferError extends TsbpfError {}

const isPowerOfTwo = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** `struct perf_event_attr` of a `bpf-output` event that samples raw data. */
function bpfOutputAttr(wakeupEvents: number): Uint8Array {
  const out = new Uint8Array(ATTR_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, PerfType.SOFTWARE, true);
  v.setUint32(4, ATTR_SIZE, true);
  v.setBigUint64(8, BigInt(SoftwareEvent['bpf-output']), true);
  v.setBigUint64(16, 1n, true); // sample_period
  v.setBigUint64(24, BigInt(PERF_SAMPLE_RAW), true);
  v.setUint32(48, wakeupEvents, true);
  return out;
}

/** BPF_MAP_UPDATE_ELEM / BPF_MAP_DELETE_ELEM of u32 key -> u32 value on a map fd; returns the errno (0: done). */
function mapElem(cmd: number, mapFd: number, key: number, value?: number): number {
  const k = new Uint32Array([key]);
  const val = new Uint32Array([value ?? 0]);
  const attr = new Uint8Array(32);
  const v = new DataView(attr.buffer);
  v.setUint32(0, mapFd, true);
  v.setBigUint64(8, addressOf(new Uint8Array(k.buffer)), true);
  if (value !== undefined) v.setBigUint64(16, addressOf(new Uint8Array(val.buffer)), true);
  const r = bpfRaw(cmd, attr);
  return r < 0 ? -r : 0;
}

interface CpuRing {
  cpu: number;
  fd: number;
  map: Mapping;
  /** u64 words of the metadata page: [128] data_head, [129] data_tail. */
  meta: BigUint64Array;
  data: Uint8Array;
  view: DataView;
  size: number;
}

/**
 * Reads a perf event array map: one perf ring per CPU, each filled by
 * bpf_perf_event_output on that CPU. Records from one CPU come in order;
 * across CPUs, `read()` gives each ring's records in turn. The reader owns
 * its perf fds and mappings (closing it removes them and the map's entries);
 * the map's fd stays the caller's.
 */
export class PerfEventArrayReader {
  readonly mapFd: number;
  /** The CPUs read, in ring order. */
  readonly cpus: readonly number[];
  /** Data bytes of each CPU's ring. */
  readonly ringSize: number;
  #rings: CpuRing[] | null;
  #lost = 0;
  #onLost: PerfReaderOptions['onLost'];
  #stops = new Set<() => void>();

  constructor(map: KernelMap | number, opts: PerfReaderOptions = {}) {
    const mapFd = typeof map === 'number' ? map : map.fd;
    if (!Number.isInteger(mapFd) || mapFd < 0) {
      throw new PerfBufferError('EARG', `perf event array fd must be a non-negative integer, got ${String(mapFd)}`, { fd: mapFd });
    }
    const pages = opts.pages ?? 8;
    if (!isPowerOfTwo(pages)) throw new PerfBufferError('EARG', `perf ring pages must be a power of 2, got ${String(pages)}`, { pages });
    const wakeup = opts.wakeupEvents ?? 1;
    if (!(Number.isInteger(wakeup) && wakeup >= 1 && wakeup <= 0xffff_ffff)) {
      throw new PerfBufferError('EARG', `wakeupEvents must be a positive integer, got ${String(wakeup)}`, { wakeupEvents: wakeup });
    }
    const info = mapInfo(mapFd);
    if (info.type !== MapType.PERF_EVENT_ARRAY) {
      throw new PerfBufferError('EPERFBUF', `fd ${mapFd} is a ${mapTypeName(info.type)} map, not a perf_event_array`, { fd: mapFd, type: info.type });
    }
    const cpus = opts.cpus ? [...opts.cpus] : onlineCpus().filter((c) => c < info.maxEntries);
    for (const c of cpus) {
      if (!(Number.isInteger(c) && c >= 0 && c < info.maxEntries)) {
        throw new PerfBufferError('EARG', `CPU ${String(c)} has no slot in a perf event array of ${info.maxEntries} entries`, { cpu: c, maxEntries: info.maxEntries });
      }
    }
    if (cpus.length === 0) throw new PerfBufferError('EARG', 'no CPU to read', { maxEntries: info.maxEntries });
    const page = pageSize();
    const attr = bpfOutputAttr(wakeup);
    const rings: CpuRing[] = [];
    try {
      for (const cpu of cpus) rings.push(openRing(mapFd, cpu, attr, page, pages));
    } catch (e) {
      for (const r of rings) closeRing(mapFd, r);
      throw e;
    }
    this.mapFd = mapFd;
    this.cpus = cpus;
    this.ringSize = rings[0]!.size;
    this.#rings = rings;
    this.#onLost = opts.onLost;
  }

  get closed(): boolean {
    return this.#rings === null;
  }

  /** Records the kernel reported lost (ring full) since the reader opened, as seen by `read()`. */
  get lost(): number {
    return this.#lost;
  }

  /** The perf event fds, one per CPU of `cpus`. */
  get fds(): number[] {
    return this.#live().map((r) => r.fd);
  }

  #live(): CpuRing[] {
    if (!this.#rings) throw new PerfBufferError('ECLOSED', `perf event array reader of map fd ${this.mapFd} has been closed`, { fd: this.mapFd });
    return this.#rings;
  }

  /**
   * Every sample available now (at most `limit`), ring by ring, each ring
   * in order; counts lost-record reports. Advances each ring's tail past
   * what it consumed.
   */
  read(limit = Infinity): PerfSample[] {
    if (!(limit >= 0)) throw new PerfBufferError('EARG', `read limit must be non-negative, got ${String(limit)}`, { limit });
    const out: PerfSample[] = [];
    for (const r of this.#live()) {
      if (out.length >= limit) break;
      this.#drain(r, out, limit);
    }
    return out;
  }

  #drain(r: CpuRing, out: PerfSample[], limit: number): void {
    // Positions fit a double exactly up to 2^53 bytes written to one ring.
    const head = Number(Atomics.load(r.meta, 128));
    const start = Number(Atomics.load(r.meta, 129));
    let tail = start;
    const mask = r.size - 1;
    while (tail < head && out.length < limit) {
      const at = tail & mask;
      const type = r.view.getUint32(at, true);
      const size = r.view.getUint16(at + 6, true);
      if (size < HEADER_SIZE || size > head - tail || size % 8 !== 0) {
        throw new PerfBufferError('EPERFBUF', `perf record at position ${tail} on CPU ${r.cpu} has size ${size}`, { cpu: r.cpu, position: tail, size });
      }
      if (type === PERF_RECORD_SAMPLE || type === PERF_RECORD_LOST || type === PERF_RECORD_LOST_SAMPLES) {
        const rec = at + size <= r.size ? r.data.subarray(at, at + size) : wrapped(r, at, size);
        const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
        if (type === PERF_RECORD_SAMPLE) {
          const raw = size >= 12 ? rv.getUint32(8, true) : -1;
          if (raw < 0 || 12 + raw > size) {
            throw new PerfBufferError('EPERFBUF', `perf sample at position ${tail} on CPU ${r.cpu} claims ${raw} raw bytes in a ${size}-byte record`, {
              cpu: r.cpu, position: tail, size, raw,
            });
          }
          out.push({ cpu: r.cpu, data: rec.slice(12, 12 + raw) });
        } else {
          const count = Number(rv.getBigUint64(type === PERF_RECORD_LOST ? 16 : 8, true));
          this.#lost += count;
          this.#onLost?.(r.cpu, count);
        }
      }
      tail += size;
    }
    if (tail !== start) Atomics.store(r.meta, 129, BigInt(tail));
  }

  /**
   * The samples as they come, waiting on epoll over every CPU's event
   * (without blocking the event loop) when the rings are empty. Ends when
   * `signal` aborts or the reader closes; the threads and fds it uses are
   * released before the loop exits.
   */
  events(opts: EventsOptions = {}): AsyncGenerator<PerfSample, void, undefined> {
    return pollEvents(this.#source(), this.#stops, opts);
  }

  /** Like `events()`, one array per read (at most `opts.batch` records): less overhead per record. */
  batches(opts: EventsOptions = {}): AsyncGenerator<PerfSample[], void, undefined> {
    return pollBatches(this.#source(), this.#stops, opts);
  }

  #source(): EventSource<PerfSample> {
    const isClosed = (): boolean => this.closed;
    return { get closed() { return isClosed(); }, read: (n) => this.read(n), pollFds: () => this.fds };
  }

  [Symbol.asyncIterator](): AsyncGenerator<PerfSample, void, undefined> {
    return this.events();
  }

  /** Ends every iteration, removes the map's entries, unmaps the rings and closes the perf fds. Idempotent. */
  close(): void {
    const rings = this.#rings;
    if (!rings) return;
    for (const stop of [...this.#stops]) stop();
    this.#rings = null;
    let failure: unknown;
    for (const r of rings) {
      try {
        closeRing(this.mapFd, r);
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

/** A record that runs past the end of the ring, copied into one piece. */
function wrapped(r: CpuRing, at: number, size: number): Uint8Array {
  const rec = new Uint8Array(size);
  const first = r.size - at;
  rec.set(r.data.subarray(at), 0);
  rec.set(r.data.subarray(0, size - first), first);
  return rec;
}

function openRing(mapFd: number, cpu: number, attr: Uint8Array, page: number, pages: number): CpuRing {
  const fd = perfEventOpen(attr, -1, cpu);
  let map: Mapping | undefined;
  try {
    map = mapShared(fd, (1 + pages) * page, PROT_READ | PROT_WRITE, 0, `perf ring of CPU ${cpu}`);
    const mv = new DataView(map.buffer);
    const dataOffset = Number(mv.getBigUint64(1040, true)) || page;
    const dataSize = Number(mv.getBigUint64(1048, true)) || pages * page;
    const errno = mapElem(BpfCommand.BPF_MAP_UPDATE_ELEM, mapFd, cpu, fd);
    if (errno) throw new KernelError('BPF_MAP_UPDATE_ELEM', errno, '', `perf event array fd ${mapFd}, CPU ${cpu}`);
    return {
      cpu,
      fd,
      map,
      meta: new BigUint64Array(map.buffer, 0, page / 8),
      data: new Uint8Array(map.buffer, dataOffset, dataSize),
      view: new DataView(map.buffer, dataOffset, dataSize),
      size: dataSize,
    };
  } catch (e) {
    if (map) unmap(map);
    closeFd(fd);
    throw e;
  }
}

function closeRing(mapFd: number, r: CpuRing): void {
  // Best effort: the map may already be gone, or its slot reused by another reader.
  mapElem(BpfCommand.BPF_MAP_DELETE_ELEM, mapFd, r.cpu);
  try {
    unmap(r.map);
  } finally {
    closeFd(r.fd);
  }
}
