/**
 * BPF_MAP_*_BATCH: many elements per bpf(2) call. Map types without batch
 * support (the kernel says ENOTSUPP or EOPNOTSUPP) fall back to one call
 * per element, with the same result.
 */
import { BpfCommand, commandName } from './constants.js';
import { KernelError } from './errors.js';
import type { KernelMap, MapValue } from './map.js';
import { addressOf, bpfRaw } from './syscall.js';

const ENOENT = 2;
const ENOSPC = 28;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;
/** `sizeof` the batch part of `bpf_attr`: in_batch, out_batch, keys, values, count, map_fd, elem_flags, flags. */
const BATCH_ATTR_SIZE = 56;
const DEFAULT_CHUNK = 64;

const unsupported = (errno: number): boolean => errno === ENOTSUPP || errno === EOPNOTSUPP;

interface BatchCall {
  inBatch?: Uint8Array | null;
  outBatch?: Uint8Array | null;
  keys: Uint8Array;
  values?: Uint8Array | null;
  count: number;
  elemFlags?: number;
}

/** One batch call: returns the kernel's result and the count it wrote back. */
function call(map: KernelMap, cmd: number, c: BatchCall): { ret: number; count: number } {
  const attr = new Uint8Array(BATCH_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setBigUint64(0, c.inBatch ? addressOf(c.inBatch) : 0n, true);
  v.setBigUint64(8, c.outBatch ? addressOf(c.outBatch) : 0n, true);
  v.setBigUint64(16, addressOf(c.keys), true);
  v.setBigUint64(24, c.values ? addressOf(c.values) : 0n, true);
  v.setUint32(32, c.count, true);
  v.setUint32(36, map.fd, true);
  v.setBigUint64(40, BigInt(c.elemFlags ?? 0), true);
  const ret = bpfRaw(cmd, attr);
  return { ret, count: v.getUint32(32, true) };
}

export function lookupBatch(map: KernelMap, opts: { chunk?: number | undefined; andDelete: boolean }): Array<[Uint8Array, Uint8Array]> {
  const cmd = opts.andDelete ? BpfCommand.BPF_MAP_LOOKUP_AND_DELETE_BATCH : BpfCommand.BPF_MAP_LOOKUP_BATCH;
  let chunk = Math.max(1, opts.chunk ?? DEFAULT_CHUNK);
  const out: Array<[Uint8Array, Uint8Array]> = [];
  // Hash maps use a u32 bucket index as the batch token, arrays a key.
  const tokenSize = Math.max(map.keySize, 8);
  let inBatch: Uint8Array | null = null;
  for (;;) {
    const keys = new Uint8Array(chunk * map.keySize);
    const values = new Uint8Array(chunk * map.valueBytes);
    const outBatch = new Uint8Array(tokenSize);
    const { ret, count } = call(map, cmd, { inBatch, outBatch, keys, values, count: chunk });
    const errno = ret < 0 ? -ret : 0;
    if (errno && unsupported(errno) && inBatch === null) return fallbackLookup(map, opts.andDelete);
    if (errno === ENOSPC && count === 0 && chunk < 1 << 20) {
      chunk *= 2; // one hash bucket holds more elements than the chunk
      continue;
    }
    if (errno && errno !== ENOENT) throw new KernelError(commandName(cmd), errno, '', `map "${map.name}" (${map.typeName})`);
    for (let k = 0; k < count; k++) {
      out.push([
        keys.slice(k * map.keySize, (k + 1) * map.keySize),
        values.slice(k * map.valueBytes, (k + 1) * map.valueBytes),
      ]);
    }
    if (errno === ENOENT) return out;
    inBatch = outBatch;
  }
}

function fallbackLookup(map: KernelMap, andDelete: boolean): Array<[Uint8Array, Uint8Array]> {
  if (!andDelete) return [...map.entries()];
  const out: Array<[Uint8Array, Uint8Array]> = [];
  for (const k of [...map.keys()]) {
    const v = map.lookupAndDelete(k);
    if (v !== null) out.push([k, v]);
  }
  return out;
}

export function updateBatch(map: KernelMap, entries: Iterable<readonly [Uint8Array, MapValue]>, flags: number): number {
  const list = [...entries];
  if (list.length === 0) return 0;
  const keys = new Uint8Array(list.length * map.keySize);
  const values = new Uint8Array(list.length * map.valueBytes);
  list.forEach(([k, val], i) => {
    keys.set(map.keyBytes(k), i * map.keySize);
    values.set(map.valueBuffer(val), i * map.valueBytes);
  });
  const cmd = BpfCommand.BPF_MAP_UPDATE_BATCH;
  const { ret, count } = call(map, cmd, { keys, values, count: list.length, elemFlags: flags });
  if (ret >= 0) return count;
  if (unsupported(-ret) && count === 0) {
    for (const [k, val] of list) map.update(k, val, flags);
    return list.length;
  }
  throw new KernelError(commandName(cmd), -ret, '', `map "${map.name}" (${map.typeName}): ${count} of ${list.length} elements written`);
}

export function deleteBatch(map: KernelMap, keyList: Iterable<Uint8Array>): number {
  const list = [...keyList];
  if (list.length === 0) return 0;
  const keys = new Uint8Array(list.length * map.keySize);
  list.forEach((k, i) => keys.set(map.keyBytes(k), i * map.keySize));
  const cmd = BpfCommand.BPF_MAP_DELETE_BATCH;
  const { ret, count } = call(map, cmd, { keys, count: list.length });
  if (ret >= 0) return count;
  if (unsupported(-ret) && count === 0) {
    let n = 0;
    for (const k of list) if (map.delete(k)) n++;
    return n;
  }
  throw new KernelError(commandName(cmd), -ret, '', `map "${map.name}" (${map.typeName}): ${count} of ${list.length} keys deleted`);
}
