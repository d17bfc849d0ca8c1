/**
 * The few raw bpf(2) map calls the vm-map differential tests need, written
 * against `bpfRaw`/`addressOf` only (the real kernel map API lives in
 * src/kernel). Every call returns the kernel's result: a non-negative number
 * or a negative errno.
 */
import { addressOf, bpfRaw, closeFd } from '../../src/kernel/index.js';

const CMD = {
  MAP_CREATE: 0,
  LOOKUP: 1,
  UPDATE: 2,
  DELETE: 3,
  GET_NEXT_KEY: 4,
  LOOKUP_AND_DELETE: 21,
} as const;

export interface RawMapAttrs {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  innerMapFd?: number;
  mapExtra?: bigint;
  name?: string;
}

/** BPF_MAP_CREATE; the fd or -errno. */
export function rawMapCreate(a: RawMapAttrs): number {
  const attr = new Uint8Array(128);
  const v = new DataView(attr.buffer);
  v.setUint32(0, a.type, true);
  v.setUint32(4, a.keySize, true);
  v.setUint32(8, a.valueSize, true);
  v.setUint32(12, a.maxEntries, true);
  v.setUint32(16, a.flags ?? 0, true);
  v.setUint32(20, a.innerMapFd ?? 0, true);
  const name = a.name ?? '';
  for (let k = 0; k < Math.min(15, name.length); k++) attr[28 + k] = name.charCodeAt(k) & 0x7f;
  v.setBigUint64(64, a.mapExtra ?? 0n, true);
  return bpfRaw(CMD.MAP_CREATE, attr);
}

function elemAttr(fd: number, key: Uint8Array | null, value: Uint8Array | null, flags: bigint): Uint8Array {
  const attr = new Uint8Array(32);
  const v = new DataView(attr.buffer);
  v.setUint32(0, fd, true);
  v.setBigUint64(8, key ? addressOf(key) : 0n, true);
  v.setBigUint64(16, value ? addressOf(value) : 0n, true);
  v.setBigUint64(24, flags, true);
  return attr;
}

/** A key buffer that is never empty (addressOf gives 0 for an empty array, which the kernel reads as NULL). */
const buf = (b: Uint8Array | null): Uint8Array | null => (b && b.byteLength > 0 ? b : null);

export function rawUpdate(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0n): number {
  return bpfRaw(CMD.UPDATE, elemAttr(fd, buf(key), value, flags));
}

/** BPF_MAP_LOOKUP_ELEM into a fresh buffer of `valueBytes`. */
export function rawLookup(fd: number, key: Uint8Array | null, valueBytes: number, flags = 0n): { err: number; value: Uint8Array } {
  const value = new Uint8Array(Math.max(valueBytes, 1));
  const err = bpfRaw(CMD.LOOKUP, elemAttr(fd, buf(key), value, flags));
  return { err, value: value.subarray(0, valueBytes) };
}

/** BPF_MAP_LOOKUP_ELEM where the value is an input (bloom filter check). */
export function rawLookupWithValue(fd: number, value: Uint8Array): number {
  return bpfRaw(CMD.LOOKUP, elemAttr(fd, null, value, 0n));
}

export function rawLookupAndDelete(fd: number, key: Uint8Array | null, valueBytes: number): { err: number; value: Uint8Array } {
  const value = new Uint8Array(Math.max(valueBytes, 1));
  const err = bpfRaw(CMD.LOOKUP_AND_DELETE, elemAttr(fd, buf(key), value, 0n));
  return { err, value: value.subarray(0, valueBytes) };
}

export function rawDelete(fd: number, key: Uint8Array | null): number {
  return bpfRaw(CMD.DELETE, elemAttr(fd, buf(key), null, 0n));
}

/** BPF_MAP_GET_NEXT_KEY; `key` null asks for the first key. */
export function rawNextKey(fd: number, key: Uint8Array | null, keySize: number): { err: number; next: Uint8Array } {
  const next = new Uint8Array(Math.max(keySize, 1));
  const err = bpfRaw(CMD.GET_NEXT_KEY, elemAttr(fd, buf(key), next, 0n));
  return { err, next: next.subarray(0, keySize) };
}

/** Every key, following GET_NEXT_KEY from the start (bounded, in case the map changes). */
export function rawKeys(fd: number, keySize: number, limit = 1 << 16): Uint8Array[] {
  const out: Uint8Array[] = [];
  let key: Uint8Array | null = null;
  while (out.length < limit) {
    const r = rawNextKey(fd, key, keySize);
    if (r.err < 0) break;
    out.push(r.next.slice());
    key = r.next.slice();
  }
  return out;
}

export function rawClose(fd: number): void {
  closeFd(fd);
}
