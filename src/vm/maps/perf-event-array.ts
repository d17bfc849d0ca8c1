/**
 * `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: per-CPU streams of samples written by
 * `bpf_perf_event_output`. In the kernel each slot holds a perf event that
 * user space opened on one CPU; in the vm a slot holds a sample buffer bound
 * to a CPU. Slots 0..cpus-1 are opened on their own CPU at creation (what
 * libbpf's perf_buffer does); `open`/`deleteKey` change that.
 *
 * `output` follows the helper: flags outside the index and ctx-length masks
 * give EINVAL, `BPF_F_CURRENT_CPU` picks the running CPU's slot, an index
 * past the end E2BIG, an empty slot ENOENT, a slot bound to another CPU
 * EOPNOTSUPP, and a full buffer ENOSPC (the sample is counted as lost).
 */
import type { AddressSpace } from '../address-space.js';
import { FdArray } from './fd-array.js';
import { Errno, type MapDesc, type MapOptions, flagsOf } from './map.js';

export const BPF_F_INDEX_MASK = 0xffffffffn;
export const BPF_F_CURRENT_CPU = 0xffffffffn;
export const BPF_F_CTXLEN_MASK = 0xfffffn << 32n;

/** One sample as user space reads it. */
export interface PerfSample {
  /** The slot (normally the CPU) it was written to. */
  readonly index: number;
  readonly cpu: number;
  readonly data: Uint8Array;
}

interface PerfSlot {
  readonly cpu: number;
  samples: PerfSample[];
  /** Bytes the unread samples take in the kernel's ring (header, size, data, padding). */
  bytes: number;
  lost: number;
}

const DEFAULT_BUFFER = 256 * 1024;
/** What a sample costs in a perf ring: perf_event_header + u32 size + data, 8-aligned. */
const sampleCost = (n: number): number => 8 + Math.ceil((4 + n) / 8) * 8;

export class PerfEventArrayMap extends FdArray<PerfSlot> {
  private readonly capacity: number;
  /** Samples across all slots in the order they were written. */
  private order: PerfSample[] = [];

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions) {
    super(space, desc, opts);
    this.capacity = opts.perfBufferBytes ?? DEFAULT_BUFFER;
    for (let i = 0; i < Math.min(this.maxEntries, this.cpus); i++) this.slots.set(i, this.fresh(i));
  }

  protected get what(): string {
    return 'perf event';
  }

  private fresh(cpu: number): PerfSlot {
    return { cpu, samples: [], bytes: 0, lost: 0 };
  }

  /** `bpf_perf_event_output`: 0 or a negative errno. `data` is the sample (with any ctx bytes already appended). */
  output(flagsArg: number | bigint, data: Uint8Array, cpu = 0): number {
    const c = this.cpuIndex(cpu);
    const flags = flagsOf(flagsArg);
    if ((flags & ~(BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK)) !== 0n) return -Errno.EINVAL;
    const raw = flags & BPF_F_INDEX_MASK;
    const index = raw === BPF_F_CURRENT_CPU ? c : Number(raw);
    if (index >= this.maxEntries) return -Errno.E2BIG;
    const slot = this.slots.get(index);
    if (!slot) return -Errno.ENOENT;
    if (slot.cpu !== c) return -Errno.EOPNOTSUPP;
    const cost = sampleCost(data.length);
    if (slot.bytes + cost > this.capacity) {
      slot.lost++;
      return -Errno.ENOSPC;
    }
    const s: PerfSample = { index, cpu: c, data: data.slice() };
    slot.samples.push(s);
    slot.bytes += cost;
    this.order.push(s);
    return 0;
  }

  /** Opens slot `index` on `cpu` (default: the CPU of the same number), replacing what it held. */
  open(index: number, cpu = index): void {
    this.cpuIndex(cpu);
    this.setSlot(index, this.fresh(cpu), 0, 'update');
    this.order = this.order.filter((s) => s.index !== index);
  }

  /** Reads (and removes) the unread samples of one slot. */
  read(index: number): Uint8Array[] {
    const slot = this.slot(index);
    if (!slot) return [];
    const out = slot.samples.map((s) => s.data);
    slot.samples = [];
    slot.bytes = 0;
    this.order = this.order.filter((s) => s.index !== index);
    return out;
  }

  /** Reads (and removes) every unread sample, in the order they were written. */
  drain(): PerfSample[] {
    const out = this.order;
    this.order = [];
    for (const s of this.slots.values()) {
      s.samples = [];
      s.bytes = 0;
    }
    return out;
  }

  /** Samples lost on slot `index` because its buffer was full. */
  lost(index: number): number {
    return this.slot(index)?.lost ?? 0;
  }

  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.userKey(key, 'lookup');
    throw this.error('ENOTSUPP', 'lookup', 'perf event slots cannot be read through bpf(2)');
  }

  override deleteKey(key: Uint8Array): void {
    super.deleteKey(key);
    const i = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
    this.order = this.order.filter((s) => s.index !== i);
  }
}
