/**
 * The map helpers: lookup, update, delete, push, pop, peek, the per-CPU
 * lookup and bpf_perf_event_output. r1 is a map handle (what `lddw rX, map`
 * loads); every key and value pointer is checked against the address space
 * for the map's key and value sizes before the map sees it.
 */
import { MapType } from '../../object/kinds.js';
import { MapError, PerfEventArrayMap, mapAt, type VmMap } from '../maps/index.js';
import { VmFault } from '../errors.js';
import { helperError } from './host.js';
import { Errno, err, helper, pointer, readArg, ret, u32 } from './memory.js';
import type { HelperDef, HelperEnv } from './registry.js';

/** The map whose handle is `handle`, or the EHELPER fault for a value that is no map. */
export function mapArg(env: HelperEnv, name: string, handle: bigint): VmMap {
  const m = mapAt(env.space, handle);
  if (m === null) {
    throw helperError(env, name, `r1 = 0x${handle.toString(16)} is not a map of this address space (load one with lddw rX, map)`);
  }
  return m;
}

/** Runs a map operation, turning a MapError that escapes it into a typed fault. */
export function mapCall<T>(env: HelperEnv, name: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    if (!(e instanceof MapError)) throw e;
    const address = typeof e.where['address'] === 'bigint' ? e.where['address'] : null;
    throw new VmFault(e.errno === Errno.EFAULT ? 'EFAULT' : 'EHELPER', `bpf_${name}: ${e.message}`, env.pc ?? -1, address);
  }
}

const cpuOf = (env: HelperEnv): number => env.host.cpu;

export const mapLookupElem = helper(1, 'map_lookup_elem', (env, map, key) => {
  const m = mapArg(env, 'map_lookup_elem', map);
  pointer(env, 'map_lookup_elem', 'key', key, m.keySize, false);
  return BigInt(mapCall(env, 'map_lookup_elem', () => m.lookup(key, cpuOf(env))));
});

export const mapUpdateElem = helper(2, 'map_update_elem', (env, map, key, value, flags) => {
  const m = mapArg(env, 'map_update_elem', map);
  pointer(env, 'map_update_elem', 'key', key, m.keySize, false);
  pointer(env, 'map_update_elem', 'value', value, m.valueSize, false);
  return ret(mapCall(env, 'map_update_elem', () => m.update(key, value, flags, cpuOf(env))));
});

export const mapDeleteElem = helper(3, 'map_delete_elem', (env, map, key) => {
  const m = mapArg(env, 'map_delete_elem', map);
  pointer(env, 'map_delete_elem', 'key', key, m.keySize, false);
  return ret(mapCall(env, 'map_delete_elem', () => m.delete(key, cpuOf(env))));
});

export const mapPushElem = helper(87, 'map_push_elem', (env, map, value, flags) => {
  const m = mapArg(env, 'map_push_elem', map);
  pointer(env, 'map_push_elem', 'value', value, m.valueSize, false);
  return ret(mapCall(env, 'map_push_elem', () => m.push(value, flags, cpuOf(env))));
});

export const mapPopElem = helper(88, 'map_pop_elem', (env, map, value) => {
  const m = mapArg(env, 'map_pop_elem', map);
  pointer(env, 'map_pop_elem', 'value', value, m.valueSize, true);
  return ret(mapCall(env, 'map_pop_elem', () => m.pop(value, cpuOf(env))));
});

export const mapPeekElem = helper(89, 'map_peek_elem', (env, map, value) => {
  const m = mapArg(env, 'map_peek_elem', map);
  // The bloom filter reads the value to test from here; queues and stacks write it.
  pointer(env, 'map_peek_elem', 'value', value, m.valueSize, m.type !== MapType.BLOOM_FILTER);
  return ret(mapCall(env, 'map_peek_elem', () => m.peek(value, cpuOf(env))));
});

export const mapLookupPercpuElem = helper(195, 'map_lookup_percpu_elem', (env, map, key, cpu) => {
  const m = mapArg(env, 'map_lookup_percpu_elem', map);
  pointer(env, 'map_lookup_percpu_elem', 'key', key, m.keySize, false);
  return BigInt(mapCall(env, 'map_lookup_percpu_elem', () => m.lookupOnCpu(key, u32(cpu))));
});

/** Flags of bpf_perf_event_output outside a packet: the index (or BPF_F_CURRENT_CPU) only. */
const INDEX_MASK = 0xffffffffn;

export const perfEventOutput = helper(25, 'perf_event_output', (env, _ctx, map, flags, data, size) => {
  const m = mapArg(env, 'perf_event_output', map);
  const bytes = readArg(env, 'perf_event_output', 'data', data, Number(size > 0xffffffffn ? 0xffffffffn : size));
  if (!(m instanceof PerfEventArrayMap)) throw helperError(env, 'perf_event_output', `map ${m.name} is a ${m.typeName}, not a PERF_EVENT_ARRAY`);
  if ((flags & ~INDEX_MASK) !== 0n) return err(Errno.EINVAL);
  return ret(mapCall(env, 'perf_event_output', () => m.output(flags, bytes, cpuOf(env))));
});

/** The map helpers (lookup, update, delete, push, pop, peek, percpu lookup, perf event output). */
export const mapHelpers = (): HelperDef[] => [
  mapLookupElem, mapUpdateElem, mapDeleteElem, perfEventOutput, mapPushElem, mapPopElem, mapPeekElem, mapLookupPercpuElem,
];
