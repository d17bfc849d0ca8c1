/**
 * `TypedMap`: a map whose keys and values are JS values, encoded and decoded
 * through the object's BTF — what generated skeletons expose for each map.
 * It works over any backend's map through the small `RawMap` shape.
 */
import { decodeValue, encodeValue, type Btf, type BtfInput, type BtfValue } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import type { VmMap } from '../vm/maps/index.js';

/** The byte-level operations a typed map needs from a backend's map. */
export interface RawMap {
  lookup(key: Uint8Array): Uint8Array | null;
  lookupPerCpu?(key: Uint8Array): Uint8Array[] | null;
  update(key: Uint8Array, value: Uint8Array | Uint8Array[], flags?: number): void;
  delete(key: Uint8Array): unknown;
  keys(): Iterable<Uint8Array>;
}

/** A vm map seen as a `RawMap`. */
export function vmRawMap(m: VmMap): RawMap {
  return {
    lookup: (k) => m.lookupValue(k),
    lookupPerCpu: (k) => m.lookupPerCpu(k),
    update: (k, v, flags = 0) => m.updateValue(k, v, flags),
    delete: (k) => m.deleteKey(k),
    keys: () => m.keys(),
  };
}

export interface TypedMapLayout {
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  /** BTF type ids (0: none, then keys and values are bytes or little-endian integers). */
  readonly keyType: number;
  readonly valueType: number;
  /** Percpu maps: a value per CPU. */
  readonly perCpu: boolean;
}

/** K and V are the generated interfaces; V is `X[]` (one per CPU) for percpu maps. */
export class TypedMap<K, V> {
  constructor(
    readonly raw: RawMap,
    private readonly btf: Btf | null,
    readonly layout: TypedMapLayout,
  ) {}

  private enc(type: number, size: number, v: unknown, what: string): Uint8Array {
    if (v instanceof Uint8Array) {
      if (v.length !== size) throw new TsbpfError('EARG', `map ${this.layout.name}: ${what} must be ${size} bytes, got ${v.length}`, { map: this.layout.name });
      return v;
    }
    if (this.btf !== null && type !== 0) return encodeValue(this.btf, type, v as BtfInput);
    if (typeof v === 'number' || typeof v === 'bigint') {
      const out = new Uint8Array(size);
      let x = BigInt.asUintN(size * 8, BigInt(v));
      for (let k = 0; k < size; k++, x >>= 8n) out[k] = Number(x & 0xffn);
      return out;
    }
    throw new TsbpfError('EARG', `map ${this.layout.name}: without BTF a ${what} must be bytes or an integer`, { map: this.layout.name });
  }

  private dec(type: number, b: Uint8Array): BtfValue | Uint8Array {
    if (this.btf !== null && type !== 0) return decodeValue(this.btf, type, b);
    return b;
  }

  encodeKey(key: K): Uint8Array {
    return this.enc(this.layout.keyType, this.layout.keySize, key, 'key');
  }

  lookup(key: K): V | undefined {
    const k = this.encodeKey(key);
    if (this.layout.perCpu) {
      const vs = this.raw.lookupPerCpu?.(k) ?? null;
      return vs === null ? undefined : (vs.map((v) => this.dec(this.layout.valueType, v)) as V);
    }
    const v = this.raw.lookup(k);
    return v === null ? undefined : (this.dec(this.layout.valueType, v) as V);
  }

  update(key: K, value: V, flags = 0): void {
    const k = this.encodeKey(key);
    if (this.layout.perCpu) {
      if (!Array.isArray(value)) throw new TsbpfError('EARG', `map ${this.layout.name} is percpu: give one value per CPU`, { map: this.layout.name });
      this.raw.update(k, value.map((v) => this.enc(this.layout.valueType, this.layout.valueSize, v, 'value')), flags);
    } else {
      this.raw.update(k, this.enc(this.layout.valueType, this.layout.valueSize, value, 'value'), flags);
    }
  }

  delete(key: K): void {
    this.raw.delete(this.encodeKey(key));
  }

  *keys(): IterableIterator<K> {
    for (const k of this.raw.keys()) yield this.dec(this.layout.keyType, k) as K;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const k of this.raw.keys()) {
      const key = this.dec(this.layout.keyType, k) as K;
      const v = this.layout.perCpu ? this.raw.lookupPerCpu?.(k) : this.raw.lookup(k);
      if (v === null || v === undefined) continue;
      yield [key, (Array.isArray(v) ? v.map((x) => this.dec(this.layout.valueType, x)) : this.dec(this.layout.valueType, v)) as V];
    }
  }
}
