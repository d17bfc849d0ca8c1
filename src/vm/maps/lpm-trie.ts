/**
 * `BPF_MAP_TYPE_LPM_TRIE`: longest-prefix-match lookups. A key is a u32
 * prefix length (host order) followed by `keySize - 4` bytes of data, read
 * most significant bit first.
 *
 * The vm keeps the same structure as the kernel (a path-compressed binary
 * trie whose intermediate nodes carry no value), because that structure
 * decides the order `get_next_key` walks: post-order, more specific
 * prefixes before the prefixes that contain them. Lookups (from programs
 * and bpf(2) alike) return the longest stored prefix that matches the key's
 * first `prefixlen` bits; update and delete work on exact prefixes and ignore
 * data bits past the prefix length, though a stored key keeps the bytes it
 * was last written with. A full trie gives ENOSPC for a new prefix.
 */
import type { AddressSpace } from '../address-space.js';
import {
  type BytesArg,
  Errno,
  EXIST,
  type MapDesc,
  type MapOptions,
  NOEXIST,
  type PerCpuValues,
  VmMap,
  flagsOf,
  round8,
  u32At,
} from './map.js';
import { SlotStore } from './slots.js';

interface TrieNode {
  prefixlen: number;
  /** The key's data bytes as last written (for an intermediate node: a copy of a descendant's). */
  readonly data: Uint8Array;
  readonly child: [TrieNode | null, TrieNode | null];
  /** Intermediate: a branching point without a value. */
  im: boolean;
  /** Value slot, -1 for intermediate nodes. */
  slot: number;
}

/** A place a node hangs from: a parent's child pointer, or the root. */
interface Link {
  readonly parent: TrieNode | null;
  readonly side: 0 | 1;
}

const ROOT: Link = { parent: null, side: 0 };

const bit = (data: Uint8Array, index: number): 0 | 1 => ((data[index >> 3]! >> (7 - (index & 7))) & 1) as 0 | 1;

export class LpmTrieMap extends VmMap {
  readonly maxPrefixlen: number;
  private readonly dataSize: number;
  private readonly slots: SlotStore;
  private root: TrieNode | null = null;
  private count = 0;

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions) {
    super(space, desc, opts);
    this.dataSize = this.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    // An exact replacement takes a fresh slot before it frees the old one.
    this.slots = new SlotStore(space, this.name, round8(this.valueSize), this.maxEntries + 1, false, this.progCanWrite());
  }

  /** Number of prefixes stored. */
  get size(): number {
    return this.count;
  }

  // ---------------------------------------------------------------- the trie

  /** Leading bits `node` and the key share, up to the shorter of the two prefix lengths. */
  private matchLen(node: TrieNode, prefixlen: number, data: Uint8Array): number {
    const limit = Math.min(node.prefixlen, prefixlen);
    let n = 0;
    for (let i = 0; n < limit; i++) {
      const x = node.data[i]! ^ data[i]!;
      if (x !== 0) return Math.min(limit, n + Math.clz32(x) - 24);
      n += 8;
    }
    return limit;
  }

  private link(l: Link, node: TrieNode | null): void {
    if (l.parent) l.parent.child[l.side] = node;
    else this.root = node;
  }

  private find(prefixlen: number, data: Uint8Array): TrieNode | null {
    if (prefixlen > this.maxPrefixlen) return null;
    let found: TrieNode | null = null;
    for (let node = this.root; node; ) {
      const m = this.matchLen(node, prefixlen, data);
      if (m === this.maxPrefixlen) return node;
      if (m < node.prefixlen) break;
      if (!node.im) found = node;
      node = node.child[bit(data, node.prefixlen)];
    }
    return found;
  }

  /** Makes room for one more prefix: ENOENT for BPF_EXIST, ENOSPC when full. */
  private addOne(flags: bigint): number {
    if (flags === EXIST) return -Errno.ENOENT;
    if (this.count >= this.maxEntries) return -Errno.ENOSPC;
    this.count++;
    return 0;
  }

  private insert(prefixlen: number, data: Uint8Array, value: Uint8Array, flagsArg: number | bigint): number {
    const flags = flagsOf(flagsArg);
    if (flags > EXIST) return -Errno.EINVAL;
    if (prefixlen > this.maxPrefixlen) return -Errno.EINVAL;
    const slot = this.slots.alloc();
    if (slot < 0) return -Errno.ENOMEM;
    const fresh: TrieNode = { prefixlen, data: data.slice(), child: [null, null], im: false, slot };
    const r = this.place(fresh, flags);
    if (r < 0) this.slots.release(slot);
    else this.space.u8.set(value, this.slots.addr(slot));
    return r;
  }

  private place(fresh: TrieNode, flags: bigint): number {
    const { prefixlen, data } = fresh;
    let at: Link = ROOT;
    let node = this.root;
    let m = 0;
    while (node) {
      m = this.matchLen(node, prefixlen, data);
      if (node.prefixlen !== m || node.prefixlen === prefixlen) break;
      at = { parent: node, side: bit(data, node.prefixlen) };
      node = node.child[at.side];
    }
    if (!node) {
      const r = this.addOne(flags);
      if (r === 0) this.link(at, fresh);
      return r;
    }
    if (node.prefixlen === m) {
      // The exact prefix: replace the node (a value) or fill the branching point.
      if (!node.im) {
        if (flags === NOEXIST) return -Errno.EEXIST;
      } else {
        const r = this.addOne(flags);
        if (r) return r;
      }
      fresh.child[0] = node.child[0];
      fresh.child[1] = node.child[1];
      this.link(at, fresh);
      if (!node.im) this.slots.release(node.slot);
      return 0;
    }
    const r = this.addOne(flags);
    if (r) return r;
    if (m === prefixlen) {
      // The new prefix contains the node: it becomes its parent.
      fresh.child[bit(node.data, m)] = node;
      this.link(at, fresh);
      return 0;
    }
    // They diverge after m bits: a branching point holds both.
    const im: TrieNode = { prefixlen: m, data: node.data.slice(), child: [null, null], im: true, slot: -1 };
    if (bit(data, m)) {
      im.child[0] = node;
      im.child[1] = fresh;
    } else {
      im.child[0] = fresh;
      im.child[1] = node;
    }
    this.link(at, im);
    return 0;
  }

  private remove(prefixlen: number, data: Uint8Array): number {
    if (prefixlen > this.maxPrefixlen) return -Errno.EINVAL;
    let at: Link = ROOT;
    let parentAt: Link = ROOT;
    let parent: TrieNode | null = null;
    let node = this.root;
    let m = 0;
    while (node) {
      m = this.matchLen(node, prefixlen, data);
      if (node.prefixlen !== m || node.prefixlen === prefixlen) break;
      parent = node;
      parentAt = at;
      at = { parent: node, side: bit(data, node.prefixlen) };
      node = node.child[at.side];
    }
    if (!node || node.prefixlen !== prefixlen || node.prefixlen !== m || node.im) return -Errno.ENOENT;
    this.count--;
    this.slots.release(node.slot);
    if (node.child[0] && node.child[1]) {
      // Still a branching point for its two subtrees.
      node.im = true;
      node.slot = -1;
      return 0;
    }
    if (parent && parent.im && !node.child[0] && !node.child[1]) {
      // A leaf under a branching point: the sibling takes the branching point's place.
      this.link(parentAt, node === parent.child[0] ? parent.child[1] : parent.child[0]);
      return 0;
    }
    this.link(at, node.child[0] ?? node.child[1]);
    return 0;
  }

  /** The first node in post-order under `start` that holds a value. */
  private leftmost(start: TrieNode | null): TrieNode | null {
    let next: TrieNode | null = null;
    for (let node = start; node; ) {
      if (node.im) {
        node = node.child[0];
      } else {
        next = node;
        node = node.child[0] ?? node.child[1];
      }
    }
    return next;
  }

  private after(key: Uint8Array | null): TrieNode | null {
    if (!this.root) return null;
    const prefixlen = key ? u32At(key) : 0;
    if (!key || prefixlen > this.maxPrefixlen) return this.leftmost(this.root);
    const data = key.subarray(4);
    const path: TrieNode[] = [];
    let node: TrieNode | null = this.root;
    let m = 0;
    while (node) {
      path.push(node);
      m = this.matchLen(node, prefixlen, data);
      if (node.prefixlen !== m || node.prefixlen === prefixlen) break;
      node = node.child[bit(data, node.prefixlen)];
    }
    if (!node || node.prefixlen !== m || node.im) return this.leftmost(this.root);
    for (let i = path.length - 1; i > 0; i--) {
      const parent = path[i - 1]!;
      if (parent.child[0] === path[i] && parent.child[1]) return this.leftmost(parent.child[1]);
      if (!parent.im) return parent;
    }
    return null;
  }

  private keyOf(node: TrieNode): Uint8Array {
    const k = new Uint8Array(this.keySize);
    new DataView(k.buffer).setUint32(0, node.prefixlen, true);
    k.set(node.data, 4);
    return k;
  }

  // ---------------------------------------------------------------- program side

  override lookup(key: BytesArg): number {
    const k = this.bytesArg(key, this.keySize, 'lookup key');
    const node = this.find(u32At(k), k.subarray(4));
    return node ? this.slots.addr(node.slot) : 0;
  }

  override update(key: BytesArg, value: BytesArg, flags: number | bigint): number {
    if (!this.progCanWrite()) return -Errno.EACCES;
    const k = this.bytesArg(key, this.keySize, 'update key');
    const v = this.bytesArg(value, this.valueSize, 'update value');
    return this.insert(u32At(k), k.subarray(4), v, flags);
  }

  override delete(key: BytesArg): number {
    if (!this.progCanWrite()) return -Errno.EACCES;
    const k = this.bytesArg(key, this.keySize, 'delete key');
    return this.remove(u32At(k), k.subarray(4));
  }

  override elements(): Array<[Uint8Array, number]> {
    const out: Array<[Uint8Array, number]> = [];
    for (let n = this.leftmost(this.root); n; n = this.after(this.keyOf(n))) out.push([this.keyOf(n), this.slots.addr(n.slot)]);
    return out;
  }

  // ---------------------------------------------------------------- user side

  /** The value of the longest prefix matching `key`, as a bpf(2) lookup gives it. */
  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.canRead('lookup');
    const k = this.userKey(key, 'lookup');
    const node = this.find(u32At(k), k.subarray(4));
    if (!node) return null;
    const a = this.slots.addr(node.slot);
    return this.space.u8.slice(a, a + this.valueSize);
  }

  override updateValue(key: Uint8Array, value: Uint8Array | PerCpuValues, flags: number | bigint = 0): void {
    this.canWrite('update');
    const k = this.userKey(key, 'update');
    const v = this.userValue(value, 'update');
    const pl = u32At(k);
    const r = this.insert(pl, k.subarray(4), v, flags);
    if (r === -Errno.EINVAL) {
      throw this.error('EINVAL', 'update', pl > this.maxPrefixlen ? `prefix length ${pl} is over ${this.maxPrefixlen}` : `bad flags 0x${flagsOf(flags).toString(16)}`);
    }
    this.check(r, 'update', r === -Errno.ENOSPC ? `the trie is full (${this.maxEntries} prefixes)` : r === -Errno.EEXIST ? 'the prefix exists (BPF_NOEXIST)' : 'no such prefix (BPF_EXIST)');
  }

  override deleteKey(key: Uint8Array): void {
    this.canWrite('delete');
    const k = this.userKey(key, 'delete');
    const pl = u32At(k);
    this.check(this.remove(pl, k.subarray(4)), 'delete', pl > this.maxPrefixlen ? `prefix length ${pl} is over ${this.maxPrefixlen}` : 'no such prefix');
  }

  override lookupAndDelete(key: Uint8Array): Uint8Array {
    this.userKey(key, 'lookup_and_delete');
    throw this.error('ENOTSUPP', 'lookup_and_delete', 'not supported for LPM tries');
  }

  /** Post-order: a prefix comes after the more specific prefixes it contains. */
  override nextKey(key: Uint8Array | null): Uint8Array | null {
    this.canRead('get_next_key');
    const n = this.after(key === null ? null : this.userKey(key, 'get_next_key'));
    return n ? this.keyOf(n) : null;
  }

  protected override batchOps(): { lookup: boolean; lookupAndDelete: boolean; update: boolean; delete: boolean } {
    return { lookup: true, lookupAndDelete: false, update: true, delete: true };
  }
}
