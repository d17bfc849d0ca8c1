/**
 * Helpers that call back into the program: bpf_loop and
 * bpf_for_each_map_elem. Callbacks run in the next stack frame on the run's
 * budget (`env.callback`); each iteration is also charged one instruction.
 */
import { MapType } from '../../object/kinds.js';
import type { AddressSpace, Region } from '../address-space.js';
import { helperError } from './host.js';
import { mapArg, mapCall } from './maps.js';
import { Errno, err, helper, u32 } from './memory.js';
import type { HelperDef, HelperEnv } from './registry.js';

/** BPF_MAX_LOOPS: bpf_loop refuses more iterations than this with -E2BIG. */
export const MAX_LOOPS = 1 << 23;

/** bpf_loop(nr_loops, callback, ctx, flags): callback(i, ctx) until it returns non-zero; returns the calls made. */
export const loop = helper(181, 'loop', (env, nrLoops, callback, ctx, flags) => {
  if (flags !== 0n) return err(Errno.EINVAL);
  const n = u32(nrLoops);
  if (n > MAX_LOOPS) return err(Errno.E2BIG);
  for (let i = 0; i < n; i++) {
    env.charge(1);
    if (env.callback(callback, [BigInt(i), ctx, 0n, 0n, 0n]) !== 0n) return BigInt(i + 1);
  }
  return BigInt(n);
});

/** Maps whose elements bpf_for_each_map_elem visits (the kernel's map_for_each_callback). */
const ITERABLE = new Set<number>([
  MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH,
]);

/** Read-only regions holding the key handed to each nesting level of callbacks, by space. */
const keyRegions = new WeakMap<AddressSpace, Region[]>();
let depth = 0;

/** A read-only region of at least `size` bytes for the key of callback level `level`. */
function keyRegion(env: HelperEnv, level: number, size: number): Region {
  let list = keyRegions.get(env.space);
  if (!list) keyRegions.set(env.space, (list = []));
  let r = list[level];
  if (!r || r.end - r.start < size) {
    r = env.space.map(`for_each_map_elem key[${level}]`, 'other', Math.max(size, 16), false);
    list[level] = r;
  }
  return r;
}

/**
 * bpf_for_each_map_elem(map, callback, ctx, flags): callback(map, &key,
 * &value, ctx) for each element (this CPU's value for percpu maps) until it
 * returns non-zero; returns the elements visited. The key sits in a
 * read-only region; the value pointer is the element's own.
 */
export const forEachMapElem = helper(164, 'for_each_map_elem', (env, map, callback, ctx, flags) => {
  const m = mapArg(env, 'for_each_map_elem', map);
  if (!ITERABLE.has(m.type)) throw helperError(env, 'for_each_map_elem', `map ${m.name} is a ${m.typeName}, which cannot be iterated`);
  if (flags !== 0n) return err(Errno.EINVAL);
  const elements = mapCall(env, 'for_each_map_elem', () => m.elements(env.host.cpu));
  const level = depth++;
  try {
    const key = keyRegion(env, level, m.keySize);
    let n = 0;
    for (const [k, value] of elements) {
      env.charge(1);
      n++;
      env.space.u8.set(k, key.start);
      if (env.callback(callback, [map, BigInt(key.start), BigInt(value), ctx, 0n]) !== 0n) break;
    }
    return BigInt(n);
  } finally {
    depth--;
  }
});

/** bpf_loop and bpf_for_each_map_elem. */
export const callbackHelpers = (): HelperDef[] => [forEachMapElem, loop];
