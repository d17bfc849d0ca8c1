/**
 * Maps of the vm: every kernel map type a program can use without kernel
 * objects, with the kernel's semantics, their values in the VM's address
 * space. See `map.ts` for the two sides of the interface.
 */
export {
  VmMap,
  MapError,
  Errno,
  errnoName,
  mapAt,
  mapsIn,
  registerMap,
  flagsOf,
  ANY,
  NOEXIST,
  EXIST,
} from './map.js';
export type {
  Addr,
  BytesArg,
  ErrnoName,
  MapDesc,
  MapOptions,
  PerCpuValues,
  BatchCursor,
  BatchResult,
} from './map.js';
export { createMap, checkMapDesc, VM_MAP_TYPES } from './create.js';
export { MapTable } from './table.js';
export { HashMap, type HashEntry } from './hash.js';
export { LruHashMap } from './lru-hash.js';
export { ArrayMap } from './array.js';
export { ProgArrayMap, type ProgramRef } from './prog-array.js';
export { PerfEventArrayMap, type PerfSample, BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK, BPF_F_CTXLEN_MASK } from './perf-event-array.js';
export { LpmTrieMap } from './lpm-trie.js';
export { ArrayOfMapsMap, HashOfMapsMap, innerMismatch } from './map-in-map.js';
export { QueueStackMap } from './queue-stack.js';
export { BloomFilterMap } from './bloom-filter.js';
export {
  RingBufMap,
  RingbufQuery,
  RINGBUF_BUSY_BIT,
  RINGBUF_DISCARD_BIT,
  RINGBUF_HDR_SZ,
  BPF_RB_NO_WAKEUP,
  BPF_RB_FORCE_WAKEUP,
} from './ringbuf.js';
export { UserRingBufMap, MAX_USER_RINGBUF_SAMPLES } from './user-ringbuf.js';
