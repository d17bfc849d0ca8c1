/**
 * The vm behind the collection interface: `loadVm` for the maps and
 * programs, the vm maps' user side for map operations, and the userspace
 * hooks for test-runs (vm-test-run.ts).
 */
import { TsbpfError } from '../errors.js';
import { MapFlag, type ObjectSpec, type ProgTypeName } from '../object/index.js';
import { loadVm, type VmCollection, type VmLoadOptions, type VmProgram } from '../vm/index.js';
import {
  BloomFilterMap, MapError, PerfEventArrayMap, ProgArrayMap, QueueStackMap, RingBufMap, type BatchCursor, type BatchResult, type VmMap,
} from '../vm/maps/index.js';
import { registerBackend, type Collection, type CollectionProgram, type TestRunInput, type TestRunOutput } from './collection.js';
import { guard } from './errors.js';
import { BaseMap, type Owner } from './map-base.js';
import { VmTestRunner } from './vm-test-run.js';

const isErrno = (e: unknown, name: string): boolean => e instanceof MapError && e.errnoName === name;
/** What a vm map throws when the kernel would fall back to element-by-element calls. */
const unsupported = (e: unknown): boolean => isErrno(e, 'ENOTSUPP') || isErrno(e, 'EOPNOTSUPP');

/** A vm map through the collection interface. */
export class VmBackendMap extends BaseMap {
  readonly backend = 'vm' as const;
  readonly cpus: number;

  constructor(readonly native: VmMap, owner: Owner) {
    super(native, owner);
    this.cpus = this.perCpu ? native.cpus : 1;
  }

  protected rawLookup(key: Uint8Array): Uint8Array | null {
    return this.native.lookupValue(key);
  }
  protected rawUpdate(key: Uint8Array, value: Uint8Array, flags: number): void {
    this.native.updateValue(key, value, flags);
  }
  protected rawDelete(key: Uint8Array): boolean {
    try {
      this.native.deleteKey(key);
      return true;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return false;
      throw e;
    }
  }
  protected rawLookupAndDelete(key: Uint8Array): Uint8Array | null {
    try {
      return this.native.lookupAndDelete(key);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return null;
      throw e;
    }
  }
  protected rawNextKey(key: Uint8Array | null): Uint8Array | null {
    return this.native.nextKey(key);
  }
  protected rawLookupBatch(chunk: number, andDelete: boolean): Array<[Uint8Array, Uint8Array]> {
    const m = this.native;
    const out: Array<[Uint8Array, Uint8Array]> = [];
    let cursor: BatchCursor | null = null;
    try {
      do {
        const r: BatchResult = andDelete ? m.lookupAndDeleteBatch(cursor, chunk) : m.lookupBatch(cursor, chunk);
        r.keys.forEach((k, i) => out.push([k, r.values[i]!]));
        cursor = r.next;
      } while (cursor !== null);
      return out;
    } catch (e) {
      if (!unsupported(e) || out.length > 0) throw e;
    }
    // As the kernel's loader does where the map type has no batches: one element at a time.
    if (!andDelete) return this.entries();
    for (const k of this.keys()) {
      const v = this.rawLookupAndDelete(k);
      if (v !== null) out.push([k, v]);
    }
    return out;
  }
  protected rawUpdateBatch(entries: Array<[Uint8Array, Uint8Array]>, flags: number): number {
    try {
      return this.native.updateBatch(entries.map(([k]) => k), entries.map(([, v]) => v), flags);
    } catch (e) {
      if (!unsupported(e)) throw e;
    }
    for (const [k, v] of entries) this.native.updateValue(k, v, flags);
    return entries.length;
  }
  protected rawDeleteBatch(keys: Uint8Array[]): number {
    try {
      return this.native.deleteBatch(keys);
    } catch (e) {
      if (!unsupported(e)) throw e;
    }
    let n = 0;
    for (const k of keys) if (this.rawDelete(k)) n++;
    return n;
  }
  protected rawPush(value: Uint8Array, flags: number): void {
    this.native.pushValue(value, flags);
  }
  protected rawPop(): Uint8Array | null {
    try {
      return this.native.popValue();
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return null;
      throw e;
    }
  }
  protected rawPeek(): Uint8Array | null {
    try {
      return this.native.peekValue();
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return null;
      throw e;
    }
  }
  protected override rawValues(): Uint8Array[] {
    return this.native instanceof QueueStackMap ? this.native.values() : super.rawValues();
  }
  protected rawMayContain(value: Uint8Array): boolean {
    return (this.native as BloomFilterMap).contains(value);
  }
  protected rawEvents(limit: number): Uint8Array[] {
    if (this.native instanceof PerfEventArrayMap) return this.native.drain().map((s) => s.data);
    return (this.native as RingBufMap).consume(limit);
  }
  protected rawProgram(index: number): string | null {
    return (this.native as ProgArrayMap).getProgram(index)?.name ?? null;
  }
  protected rawSetProgram(index: number, name: string | null): void {
    const m = this.native as ProgArrayMap<VmProgram>;
    if (name === null) {
      m.setProgram(index, null);
      return;
    }
    const prog = this.programs().get(name);
    if (prog === undefined) throw this.fail('update', 'EBADF', `the collection has no program ${name}`);
    m.setProgram(index, prog);
  }
  protected rawFreeze(): void {
    // The kernel checks write access first, so a frozen (or user read-only) map is EPERM, not EBUSY.
    if (this.native.frozen || this.flags & MapFlag.RDONLY) throw this.fail('freeze', 'EPERM', 'the map is not writable from user space');
    this.native.freeze();
  }

  /** The collection's programs (set by the collection once they exist). */
  programs: () => ReadonlyMap<string, VmProgram> = () => new Map();
}

/** A vm program through the collection interface. */
export class VmBackendProgram implements CollectionProgram {
  readonly name: string;
  readonly type: ProgTypeName;
  readonly section: string;
  constructor(readonly native: VmProgram, private readonly runner: VmTestRunner, private readonly owner: Owner) {
    this.name = native.name;
    this.type = native.spec.type;
    this.section = native.spec.section;
  }

  testRun(input: TestRunInput): TestRunOutput {
    if (this.owner.closed) throw new TsbpfError('ECLOSED', `program ${this.name}: the collection has been closed`, { program: this.name });
    return guard('vm', 'test_run', `program ${this.name}`, () => this.runner.run(this.native, input));
  }
}

/** An object loaded into the vm, through the collection interface. */
export class VmBackendCollection implements Collection {
  readonly backend = 'vm' as const;
  readonly maps = new Map<string, VmBackendMap>();
  readonly programs = new Map<string, VmBackendProgram>();
  #closed = false;

  constructor(readonly spec: ObjectSpec, readonly native: VmCollection) {
    const runner = new VmTestRunner(native);
    const progs = (): ReadonlyMap<string, VmProgram> => native.programs;
    for (const [name, m] of native.maps) {
      const map = new VmBackendMap(m, this);
      map.programs = progs;
      this.maps.set(name, map);
    }
    for (const [name, p] of native.programs) this.programs.set(name, new VmBackendProgram(p, runner, this));
  }

  get closed(): boolean {
    return this.#closed;
  }

  map(name: string): VmBackendMap {
    const m = this.maps.get(name);
    if (!m) throw new TsbpfError('ENOMAP', `no map "${name}" (there are: ${[...this.maps.keys()].join(', ') || 'none'})`, { map: name });
    return m;
  }

  program(name: string): VmBackendProgram {
    const p = this.programs.get(name);
    if (!p) throw new TsbpfError('ENOPROG', `no program "${name}" (there are: ${[...this.programs.keys()].join(', ') || 'none'})`, { program: name });
    return p;
  }

  /** The vm holds nothing outside the JS heap: closing only ends the collection's use. */
  close(): void {
    this.#closed = true;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export function loadIntoVm(spec: ObjectSpec, opts: VmLoadOptions): VmBackendCollection {
  return new VmBackendCollection(spec, loadVm(spec, opts));
}

registerBackend('vm', loadIntoVm);
