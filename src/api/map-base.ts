/**
 * What both backends' maps share: argument checks (key and value sizes,
 * operations the map type does not have) made the same way before either
 * backend is asked, errors normalised to `CollectionError`, and the
 * operations built from the primitives a backend supplies.
 */
import { TsbpfError } from '../errors.js';
import { MapType, mapTypeName } from '../object/kinds.js';
import type { CollectionMap, MapValueInput } from './collection.js';
import { CollectionError, guard, type BackendName } from './errors.js';

const PERCPU: readonly number[] = [MapType.PERCPU_ARRAY, MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH, MapType.PERCPU_CGROUP_STORAGE];
const QUEUES: readonly number[] = [MapType.QUEUE, MapType.STACK];

export const round8 = (n: number): number => (n + 7) & ~7;

/** What a map is, as both backends describe it. */
export interface MapShape {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

/** The collection a map belongs to: whether it is still open. */
export interface Owner {
  readonly closed: boolean;
}

/** The operations a backend's map supplies; arguments have been checked already. */
export abstract class BaseMap implements CollectionMap {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly perCpu: boolean;
  abstract readonly backend: BackendName;
  abstract readonly cpus: number;

  constructor(shape: MapShape, private readonly owner: Owner) {
    this.name = shape.name;
    this.type = shape.type;
    this.keySize = shape.keySize;
    this.valueSize = shape.valueSize;
    this.maxEntries = shape.maxEntries;
    this.flags = shape.flags;
    this.perCpu = PERCPU.includes(shape.type);
  }

  get typeName(): string {
    return mapTypeName(this.type);
  }

  // ------------------------------------------------------------ primitives

  protected abstract rawLookup(key: Uint8Array): Uint8Array | null;
  /** `value` is one buffer: `valueSize` bytes, or for percpu maps `cpus` × round8(valueSize). */
  protected abstract rawUpdate(key: Uint8Array, value: Uint8Array, flags: number): void;
  protected abstract rawDelete(key: Uint8Array): boolean;
  protected abstract rawLookupAndDelete(key: Uint8Array): Uint8Array | null;
  protected abstract rawNextKey(key: Uint8Array | null): Uint8Array | null;
  protected abstract rawLookupBatch(chunk: number, andDelete: boolean): Array<[Uint8Array, Uint8Array]>;
  protected abstract rawUpdateBatch(entries: Array<[Uint8Array, Uint8Array]>, flags: number): number;
  protected abstract rawDeleteBatch(keys: Uint8Array[]): number;
  protected abstract rawPush(value: Uint8Array, flags: number): void;
  protected abstract rawPop(): Uint8Array | null;
  protected abstract rawPeek(): Uint8Array | null;
  protected abstract rawMayContain(value: Uint8Array): boolean;
  protected abstract rawEvents(limit: number): Uint8Array[];
  protected abstract rawProgram(index: number): string | null;
  protected abstract rawSetProgram(index: number, name: string | null): void;
  protected abstract rawFreeze(): void;

  // ------------------------------------------------------------ checks

  /** Runs a backend call: the collection must be open; errors become `CollectionError`. */
  protected op<T>(op: string, fn: () => T): T {
    if (this.owner.closed) throw new TsbpfError('ECLOSED', `map ${this.name}: the collection has been closed`, { map: this.name, op });
    return guard(this.backend, op, `map ${this.name}`, fn);
  }

  protected fail(op: string, errno: string, detail: string): CollectionError {
    return new CollectionError(this.backend, op, `map ${this.name}`, errno, detail);
  }

  protected key(key: Uint8Array, op: string): Uint8Array {
    if (!(key instanceof Uint8Array) || key.length !== this.keySize) {
      throw this.fail(op, 'EINVAL', `the key must be ${this.keySize} bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`);
    }
    return key;
  }

  private plainValue(value: unknown, op: string): Uint8Array {
    if (!(value instanceof Uint8Array) || value.length !== this.valueSize) {
      throw this.fail(op, 'EINVAL', `the value must be ${this.valueSize} bytes, got ${value instanceof Uint8Array ? value.length : typeof value}`);
    }
    return value;
  }

  /** A value as one bpf(2) buffer (percpu maps: every CPU's value, each padded to 8 bytes). */
  protected value(value: MapValueInput, op: string): Uint8Array {
    if (!this.perCpu) return this.plainValue(value, op);
    const slot = round8(this.valueSize);
    if (value instanceof Uint8Array) {
      if (value.length !== slot * this.cpus) throw this.fail(op, 'EINVAL', `a percpu value is ${this.cpus} x ${slot} bytes, got ${value.length}`);
      return value;
    }
    if (!Array.isArray(value) || value.length !== this.cpus) {
      throw this.fail(op, 'EINVAL', `a percpu value needs one value for each of the ${this.cpus} CPUs`);
    }
    const out = new Uint8Array(slot * this.cpus);
    value.forEach((v, c) => out.set(this.plainValue(v, op), c * slot));
    return out;
  }

  private need(types: readonly number[], op: string, what: string): void {
    if (!types.includes(this.type)) throw this.fail(op, 'EINVAL', `a ${this.typeName} map is not ${what}`);
  }

  private flagsArg(flags: number, op: string): number {
    if (!Number.isSafeInteger(flags) || flags < 0) throw this.fail(op, 'EINVAL', `bad flags ${String(flags)}`);
    return flags;
  }

  // ------------------------------------------------------------ the interface

  lookup(key: Uint8Array): Uint8Array | null {
    return this.op('lookup', () => this.rawLookup(this.key(key, 'lookup')));
  }

  lookupPerCpu(key: Uint8Array): Uint8Array[] | null {
    return this.op('lookup', () => {
      const k = this.key(key, 'lookup');
      if (!this.perCpu) throw this.fail('lookup', 'EINVAL', 'not a percpu map');
      const v = this.rawLookup(k);
      if (v === null) return null;
      const slot = round8(this.valueSize);
      return Array.from({ length: this.cpus }, (_, c) => v.slice(c * slot, c * slot + this.valueSize));
    });
  }

  update(key: Uint8Array, value: MapValueInput, flags = 0): void {
    this.op('update', () => this.rawUpdate(this.key(key, 'update'), this.value(value, 'update'), this.flagsArg(flags, 'update')));
  }

  delete(key: Uint8Array): boolean {
    return this.op('delete', () => this.rawDelete(this.key(key, 'delete')));
  }

  lookupAndDelete(key: Uint8Array): Uint8Array | null {
    return this.op('lookup_and_delete', () => this.rawLookupAndDelete(this.key(key, 'lookup_and_delete')));
  }

  nextKey(key: Uint8Array | null): Uint8Array | null {
    return this.op('get_next_key', () => this.rawNextKey(key === null ? null : this.key(key, 'get_next_key')));
  }

  keys(): Uint8Array[] {
    return this.op('get_next_key', () => {
      const out: Uint8Array[] = [];
      // A map that keeps changing under us still ends: no more keys than it can hold.
      for (let k = this.rawNextKey(null); k !== null && out.length <= this.maxEntries; k = this.rawNextKey(k)) out.push(k);
      return out;
    });
  }

  entries(): Array<[Uint8Array, Uint8Array]> {
    return this.op('lookup', () => {
      const out: Array<[Uint8Array, Uint8Array]> = [];
      for (const k of this.keys()) {
        const v = this.rawLookup(k);
        if (v !== null) out.push([k, v]);
      }
      return out;
    });
  }

  lookupBatch(chunk = 64): Array<[Uint8Array, Uint8Array]> {
    return this.op('lookup_batch', () => this.rawLookupBatch(this.chunk(chunk, 'lookup_batch'), false));
  }

  lookupAndDeleteBatch(chunk = 64): Array<[Uint8Array, Uint8Array]> {
    return this.op('lookup_and_delete_batch', () => this.rawLookupBatch(this.chunk(chunk, 'lookup_and_delete_batch'), true));
  }

  private chunk(n: number, op: string): number {
    if (!Number.isSafeInteger(n) || n < 1) throw this.fail(op, 'EINVAL', `bad batch size ${String(n)}`);
    return n;
  }

  updateBatch(entries: Iterable<readonly [Uint8Array, MapValueInput]>, flags = 0): number {
    return this.op('update_batch', () => {
      const list: Array<[Uint8Array, Uint8Array]> = [...entries].map(([k, v]) => [this.key(k, 'update_batch'), this.value(v, 'update_batch')]);
      return this.rawUpdateBatch(list, this.flagsArg(flags, 'update_batch'));
    });
  }

  deleteBatch(keys: Iterable<Uint8Array>): number {
    return this.op('delete_batch', () => this.rawDeleteBatch([...keys].map((k) => this.key(k, 'delete_batch'))));
  }

  push(value: Uint8Array, flags = 0): void {
    this.op('push', () => {
      this.need([...QUEUES, MapType.BLOOM_FILTER], 'push', 'a queue, stack or bloom filter');
      this.rawPush(this.value(value, 'push'), this.flagsArg(flags, 'push'));
    });
  }

  pop(): Uint8Array | null {
    return this.op('pop', () => {
      this.need(QUEUES, 'pop', 'a queue or stack');
      return this.rawPop();
    });
  }

  peek(): Uint8Array | null {
    return this.op('peek', () => {
      this.need(QUEUES, 'peek', 'a queue or stack');
      return this.rawPeek();
    });
  }

  values(): Uint8Array[] {
    return this.op('values', () => {
      this.need(QUEUES, 'values', 'a queue or stack');
      return this.rawValues();
    });
  }

  /** Queue/stack values in pop order; by default by popping all and pushing them back. */
  protected rawValues(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let v = this.rawPop(); v !== null && out.length <= this.maxEntries; v = this.rawPop()) out.push(v);
    // A queue gets them back in the same order; a stack in reverse, so the next pop is again the first.
    const back = this.type === MapType.STACK ? [...out].reverse() : out;
    for (const v of back) this.rawPush(v, 0);
    return out;
  }

  mayContain(value: Uint8Array): boolean {
    return this.op('lookup', () => {
      this.need([MapType.BLOOM_FILTER], 'lookup', 'a bloom filter');
      return this.rawMayContain(this.value(value, 'lookup'));
    });
  }

  events(limit = Infinity): Uint8Array[] {
    return this.op('read', () => {
      this.need([MapType.RINGBUF, MapType.PERF_EVENT_ARRAY], 'read', 'a ring buffer or perf event array');
      if (!(limit >= 0)) throw this.fail('read', 'EINVAL', `bad limit ${String(limit)}`);
      return this.rawEvents(limit);
    });
  }

  program(index: number): string | null {
    return this.op('lookup', () => {
      this.need([MapType.PROG_ARRAY], 'lookup', 'a prog_array');
      this.index(index, 'lookup');
      return this.rawProgram(index);
    });
  }

  setProgram(index: number, name: string | null): void {
    this.op(name === null ? 'delete' : 'update', () => {
      this.need([MapType.PROG_ARRAY], 'update', 'a prog_array');
      this.index(index, 'update');
      this.rawSetProgram(index, name);
    });
  }

  private index(index: number, op: string): void {
    if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw this.fail(op, 'EINVAL', `bad index ${String(index)}`);
    if (index >= this.maxEntries) throw this.fail(op, 'E2BIG', `index ${index} is past the end (${this.maxEntries} entries)`);
  }

  freeze(): void {
    this.op('freeze', () => this.rawFreeze());
  }
}

/** The 4-byte little-endian key of array index `i`. */
export function indexKey(i: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, i, true);
  return k;
}
