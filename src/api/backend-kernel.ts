/**
 * Node only (imported by `./node.ts`, never by `./index.ts`, so that the
 * portable core stays free of Node APIs). The Linux kernel behind the
 * collection interface: `loadCollection` for
 * the maps and programs, `KernelMap` for map operations, BPF_PROG_TEST_RUN
 * for test-runs and an mmap'ed `RingBufReader` for ring buffer events.
 * `bpf_printk` output goes to the kernel's trace buffer and is not captured.
 */
import { TsbpfError } from '../errors.js';
import { MapType, type ObjectSpec, type ProgTypeName } from '../object/index.js';
import { KernelCollection, loadCollection, type LoadCollectionOptions } from '../kernel/object-load.js';
import type { KernelMap } from '../kernel/map.js';
import { progTestRun, type LoadedProgram, type TestRunOptions } from '../kernel/prog.js';
import { progInfo } from '../kernel/info.js';
import { RingBufReader } from '../kernel/ringbuf.js';
import { registerBackend, type Collection, type CollectionProgram, type TestRunInput, type TestRunOutput } from './collection.js';
import { guard } from './errors.js';
import { BaseMap, indexKey, type Owner } from './map-base.js';

/** Bytes of the ctx the kernel gives back, by program type (when a ctx was given in). */
const CTX_SIZE: Partial<Record<ProgTypeName, number>> = { XDP: 24, SCHED_CLS: 192, SCHED_ACT: 192, SOCKET_FILTER: 192 };

/** A kernel map through the collection interface. */
export class KernelBackendMap extends BaseMap {
  readonly backend = 'kernel' as const;
  readonly cpus: number;
  #reader: RingBufReader | null = null;

  constructor(name: string, readonly native: KernelMap, owner: Owner, private readonly col: KernelBackendCollection) {
    super({ name, type: native.type, keySize: native.keySize, valueSize: native.valueSize, maxEntries: native.maxEntries, flags: native.flags }, owner);
    this.cpus = this.perCpu ? native.cpus : 1;
  }

  protected rawLookup(key: Uint8Array): Uint8Array | null {
    return this.native.lookup(key);
  }
  protected rawUpdate(key: Uint8Array, value: Uint8Array, flags: number): void {
    this.native.update(key, value, flags);
  }
  protected rawDelete(key: Uint8Array): boolean {
    return this.native.delete(key);
  }
  protected rawLookupAndDelete(key: Uint8Array): Uint8Array | null {
    return this.native.lookupAndDelete(key);
  }
  protected rawNextKey(key: Uint8Array | null): Uint8Array | null {
    return this.native.nextKey(key);
  }
  protected rawLookupBatch(chunk: number, andDelete: boolean): Array<[Uint8Array, Uint8Array]> {
    return andDelete ? this.native.lookupAndDeleteBatch(chunk) : this.native.lookupBatch(chunk);
  }
  protected rawUpdateBatch(entries: Array<[Uint8Array, Uint8Array]>, flags: number): number {
    return this.native.updateBatch(entries, flags);
  }
  protected rawDeleteBatch(keys: Uint8Array[]): number {
    return this.native.deleteBatch(keys);
  }
  protected rawPush(value: Uint8Array, flags: number): void {
    this.native.push(value, flags);
  }
  protected rawPop(): Uint8Array | null {
    return this.native.pop();
  }
  protected rawPeek(): Uint8Array | null {
    return this.native.peek();
  }
  protected rawMayContain(value: Uint8Array): boolean {
    return this.native.mayContain(value);
  }
  protected rawEvents(limit: number): Uint8Array[] {
    if (this.type === MapType.PERF_EVENT_ARRAY) {
      throw this.fail('read', 'ENOTSUPP', 'the kernel backend cannot read perf event arrays yet (no perf buffer reader in src/kernel)');
    }
    this.#reader ??= new RingBufReader(this.native);
    return this.#reader.read(limit);
  }
  protected rawProgram(index: number): string | null {
    const v = this.native.lookup(indexKey(index));
    if (v === null) return null;
    const id = new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true);
    return this.col.programById(id);
  }
  protected rawSetProgram(index: number, name: string | null): void {
    if (name === null) {
      this.native.delete(indexKey(index));
      return;
    }
    const prog = this.col.native.programs.get(name);
    if (prog === undefined) throw this.fail('update', 'EBADF', `the collection has no program ${name}`);
    this.native.update(indexKey(index), indexKey(prog.fd));
  }
  protected rawFreeze(): void {
    this.native.freeze();
  }

  /** Unmaps the ring buffer reader, if one was made. */
  closeReader(): void {
    const r = this.#reader;
    this.#reader = null;
    r?.close();
  }
}

/** A kernel program through the collection interface. */
export class KernelBackendProgram implements CollectionProgram {
  readonly type: ProgTypeName;
  readonly section: string;
  constructor(readonly name: string, readonly native: LoadedProgram, spec: ObjectSpec, private readonly owner: Owner) {
    const ps = spec.programs.get(name)!;
    this.type = ps.type;
    this.section = ps.section;
  }

  testRun(input: TestRunInput): TestRunOutput {
    if (this.owner.closed) throw new TsbpfError('ECLOSED', `program ${this.name}: the collection has been closed`, { program: this.name });
    return guard('kernel', 'test_run', `program ${this.name}`, () => {
      const opts: TestRunOptions = { repeat: input.repeat ?? 0 };
      if (input.data !== undefined) opts.data = input.data;
      if (input.ctxIn !== undefined) {
        opts.ctxIn = input.ctxIn;
        const size = CTX_SIZE[this.type] ?? (this.type === 'SYSCALL' ? input.ctxIn.length : 0);
        if (size > 0) opts.ctxOut = size;
      }
      const r = progTestRun(this.native, opts);
      const out: TestRunOutput = { retval: r.retval, dataOut: r.dataOut, duration: r.duration };
      if (r.ctxOut !== undefined) out.ctxOut = r.ctxOut;
      return out;
    });
  }
}

/** An object loaded into the kernel, through the collection interface. */
export class KernelBackendCollection implements Collection {
  readonly backend = 'kernel' as const;
  readonly maps = new Map<string, KernelBackendMap>();
  readonly programs = new Map<string, KernelBackendProgram>();
  #ids: Map<number, string> | null = null;

  constructor(readonly spec: ObjectSpec, readonly native: KernelCollection) {
    for (const [name, m] of native.maps) this.maps.set(name, new KernelBackendMap(name, m, this, this));
    for (const [name, p] of native.programs) this.programs.set(name, new KernelBackendProgram(name, p, spec, this));
  }

  get closed(): boolean {
    return this.native.closed;
  }

  /** The name of the collection's program with kernel id `id` (what a prog_array lookup gives), or null. */
  programById(id: number): string | null {
    if (this.#ids === null) {
      this.#ids = new Map();
      for (const [name, p] of this.native.programs) this.#ids.set(progInfo(p.fd).id, name);
    }
    return this.#ids.get(id) ?? null;
  }

  map(name: string): KernelBackendMap {
    const m = this.maps.get(name);
    if (!m) throw new TsbpfError('ENOMAP', `no map "${name}" (there are: ${[...this.maps.keys()].join(', ') || 'none'})`, { map: name });
    return m;
  }

  program(name: string): KernelBackendProgram {
    const p = this.programs.get(name);
    if (!p) throw new TsbpfError('ENOPROG', `no program "${name}" (there are: ${[...this.programs.keys()].join(', ') || 'none'})`, { program: name });
    return p;
  }

  /** Unmaps ring buffer readers and closes every fd. Closing twice does nothing. */
  close(): void {
    if (this.native.closed) return;
    let first: unknown = null;
    for (const m of this.maps.values()) {
      try {
        m.closeReader();
      } catch (e) {
        first ??= e;
      }
    }
    this.native.close();
    if (first !== null) throw first;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export function loadIntoKernel(spec: ObjectSpec, opts: LoadCollectionOptions): KernelBackendCollection {
  return new KernelBackendCollection(spec, loadCollection(spec, opts));
}

registerBackend('kernel', loadIntoKernel);
