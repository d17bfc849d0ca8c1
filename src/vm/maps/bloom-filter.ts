/**
 * `BPF_MAP_TYPE_BLOOM_FILTER`: a keyless set that answers "maybe present"
 * or "certainly absent". Push adds a value (flags must be `BPF_ANY`), peek
 * tests one: 0 when it may be present, ENOENT when it is not. False
 * positives are allowed, false negatives never. The number of hash
 * functions is `map_extra & 0xf` (5 when 0). Pop, delete and get_next_key
 * are not supported, as in the kernel.
 *
 * The vm's hashes are its own (the kernel uses jhash with a random seed),
 * and the bit array has at least `1.44 * max_entries * hashes` bits rounded
 * up to a power of two (at most 2^28).
 */
import type { AddressSpace } from '../address-space.js';
import { type Addr, type BytesArg, Errno, type MapDesc, type MapOptions, type PerCpuValues, VmMap, flagsOf } from './map.js';

const MAX_BITS = 2 ** 28;

/** A 32-bit hash of `b` with a seed (multiply-rotate mixing, then an avalanche). */
function hash32(b: Uint8Array, seed: number): number {
  let h = Math.imul(seed, 0x9e3779b1) ^ 0x85ebca6b;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) {
    let k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  }
  let k = 0;
  for (let s = 0; i < b.length; i++, s += 8) k |= b[i]! << s;
  h ^= Math.imul(Math.imul(k, 0xcc9e2d51), 0x1b873593);
  h ^= b.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class BloomFilterMap extends VmMap {
  readonly hashes: number;
  private readonly bits: Uint32Array;
  private readonly mask: number;

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions) {
    super(space, desc, opts);
    this.hashes = Number(this.mapExtra & 0xfn) || 5;
    const want = Math.ceil((this.maxEntries * this.hashes) / Math.LN2);
    let n = 64;
    while (n < want && n < MAX_BITS) n *= 2;
    this.bits = new Uint32Array(n / 32);
    this.mask = n - 1;
  }

  private positions(v: Uint8Array): number[] {
    return Array.from({ length: this.hashes }, (_, i) => hash32(v, i + 1) & this.mask);
  }

  private add(v: Uint8Array, flagsArg: number | bigint): number {
    if (flagsOf(flagsArg) !== 0n) return -Errno.EINVAL;
    for (const p of this.positions(v)) this.bits[p >>> 5] |= 1 << (p & 31);
    return 0;
  }

  private has(v: Uint8Array): boolean {
    return this.positions(v).every((p) => (this.bits[p >>> 5]! & (1 << (p & 31))) !== 0);
  }

  // ---------------------------------------------------------------- program side

  override push(value: BytesArg, flags: number | bigint): number {
    if (!this.progCanWrite()) return -Errno.EACCES;
    return this.add(this.bytesArg(value, this.valueSize, 'push value'), flags);
  }

  /** Tests the value at `value` (an input, unlike a queue's peek). */
  override peek(value: Addr): number {
    return this.has(this.bytesView(value, this.valueSize, 'peek value')) ? 0 : -Errno.ENOENT;
  }

  override pop(_dst: Addr): number {
    return -Errno.EOPNOTSUPP;
  }

  override update(_key: BytesArg, value: BytesArg, flags: number | bigint): number {
    return this.push(value, flags);
  }

  override delete(_key: BytesArg): number {
    return -Errno.EOPNOTSUPP;
  }

  // ---------------------------------------------------------------- user side

  override pushValue(value: Uint8Array, flags: number | bigint = 0): void {
    this.canWrite('push');
    this.check(this.add(this.userValue(value, 'push'), flags), 'push', 'flags must be BPF_ANY');
  }

  /** bpf(2) lookup with the value as input: true when it may be present. */
  contains(value: Uint8Array): boolean {
    this.canRead('lookup');
    return this.has(this.userValue(value, 'lookup'));
  }

  /** bpf(2) update on a bloom filter adds the value (the key is empty). */
  override updateValue(key: Uint8Array, value: Uint8Array | PerCpuValues, flags: number | bigint = 0): void {
    this.userKey(key, 'update');
    this.pushValue(this.userValue(value, 'update'), flags);
  }

  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.userKey(key, 'lookup');
    throw this.error('EINVAL', 'lookup', 'a bloom filter is tested with a value (use contains)');
  }

  override deleteKey(key: Uint8Array): void {
    this.userKey(key, 'delete');
    throw this.error('EOPNOTSUPP', 'delete', 'bloom filters cannot delete');
  }

  override lookupAndDelete(key: Uint8Array): Uint8Array {
    this.userKey(key, 'lookup_and_delete');
    throw this.error('ENOTSUPP', 'lookup_and_delete', 'bloom filters cannot pop');
  }

  override popValue(): Uint8Array {
    throw this.error('ENOTSUPP', 'pop', 'bloom filters cannot pop');
  }

  override nextKey(key: Uint8Array | null): Uint8Array | null {
    if (key) this.userKey(key, 'get_next_key');
    throw this.error('EOPNOTSUPP', 'get_next_key', 'bloom filters cannot be iterated');
  }
}
