/**
 * The ring buffer helpers: bpf_ringbuf_reserve, _submit, _discard, _output
 * and _query over the vm's RINGBUF maps. A reserved record is a real pointer
 * into the ring's region; submit and discard find their ring from it.
 */
import { RingBufMap, mapsIn } from '../maps/index.js';
import { helperError } from './host.js';
import { mapArg, mapCall } from './maps.js';
import { helper, readArg, ret } from './memory.js';
import type { HelperDef, HelperEnv } from './registry.js';

function ringArg(env: HelperEnv, name: string, map: bigint): RingBufMap {
  const m = mapArg(env, name, map);
  if (!(m instanceof RingBufMap)) throw helperError(env, name, `map ${m.name} is a ${m.typeName}, not a RINGBUF`);
  return m;
}

/** submit/discard: commits the record at `sample`, which must come from bpf_ringbuf_reserve. */
function commit(env: HelperEnv, name: string, sample: bigint, flags: bigint, discard: boolean): bigint {
  const at = sample < 2n ** 32n ? Number(sample) : -1;
  const ring = mapsIn(env.space).find((m): m is RingBufMap => m instanceof RingBufMap && at >= m.region.start && at < m.region.end);
  const r = ring === undefined ? -1 : mapCall(env, name, () => (discard ? ring.discard(sample, flags) : ring.submit(sample, flags)));
  if (r !== 0) throw helperError(env, name, `0x${sample.toString(16)} is not a record reserved by bpf_ringbuf_reserve and not yet committed`);
  return 0n;
}

export const ringbufOutput = helper(130, 'ringbuf_output', (env, map, data, size, flags) => {
  const m = ringArg(env, 'ringbuf_output', map);
  const bytes = readArg(env, 'ringbuf_output', 'data', data, Number(size > 0xffffffffn ? 0xffffffffn : size));
  return ret(mapCall(env, 'ringbuf_output', () => m.output(bytes, flags)));
});

export const ringbufReserve = helper(131, 'ringbuf_reserve', (env, map, size, flags) => {
  const m = ringArg(env, 'ringbuf_reserve', map);
  return BigInt(mapCall(env, 'ringbuf_reserve', () => m.reserve(size, flags)));
});

export const ringbufSubmit = helper(132, 'ringbuf_submit', (env, sample, flags) => commit(env, 'ringbuf_submit', sample, flags, false));
export const ringbufDiscard = helper(133, 'ringbuf_discard', (env, sample, flags) => commit(env, 'ringbuf_discard', sample, flags, true));

export const ringbufQuery = helper(134, 'ringbuf_query', (env, map, flags) => {
  const m = ringArg(env, 'ringbuf_query', map);
  return BigInt(mapCall(env, 'ringbuf_query', () => m.query(flags)));
});

/** The ring buffer helpers. */
export const ringbufHelpers = (): HelperDef[] => [ringbufOutput, ringbufReserve, ringbufSubmit, ringbufDiscard, ringbufQuery];
