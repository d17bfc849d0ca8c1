/**
 * `load(spec, { backend })`: an `ObjectSpec` loaded into the vm or into the
 * Linux kernel, behind one `Collection` interface. Map operations, program
 * test-runs and ring buffer reading look the same on both backends, errors
 * included (`CollectionError` with the errno bpf(2) gives), so code written
 * against the vm runs on the kernel by changing one word.
 *
 * Loading runs nothing else. When the verifier exists, this is where it
 * plugs in: `load` will check each program before either backend gets it
 * (the kernel's own verifier still runs on the kernel).
 */
import { TsbpfError } from '../errors.js';
import type { ObjectSpec, ProgTypeName } from '../object/index.js';
import type { VmLoadOptions } from '../vm/index.js';
import type { LoadCollectionOptions } from '../kernel/object-load.js';
import type { BackendName } from './errors.js';

export type { BackendName } from './errors.js';
export const BACKENDS: readonly BackendName[] = ['vm', 'kernel'];

/**
 * How to load. `backend` picks the engine (the vm unless said); the other
 * fields apply to one backend and are ignored by the other:
 * - vm: `engine`, `cpus` (virtual CPUs; the kernel has its own), `budget`,
 *   `printk` (the kernel writes `bpf_printk` to its trace buffer instead);
 * - kernel: `btf`, `logLevel`, `logSize`, `programs`.
 */
export interface LoadOptions extends VmLoadOptions, LoadCollectionOptions {
  backend?: BackendName;
}

/** A map value: one buffer (percpu maps: bpf(2)'s layout, each CPU's value padded to 8 bytes), or one value per CPU. */
export type MapValueInput = Uint8Array | readonly Uint8Array[];

/**
 * A map of a loaded collection. Keys and values are bytes, exactly as bpf(2)
 * takes them. Every failure is a `CollectionError` with the errno the kernel
 * gives for the same call.
 */
export interface CollectionMap {
  readonly name: string;
  /** `enum bpf_map_type` (`MapType`). */
  readonly type: number;
  readonly typeName: string;
  readonly keySize: number;
  /** The value size of one element (one CPU's value, for percpu maps). */
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly perCpu: boolean;
  /** Values per key of a percpu map (the vm's virtual CPUs, the kernel's possible CPUs); 1 otherwise. */
  readonly cpus: number;

  /** The value at `key`, or null when there is none. Percpu maps: every CPU's value, bpf(2)'s layout. Queue/stack (empty key): peek. */
  lookup(key: Uint8Array): Uint8Array | null;
  /** Percpu maps: one `valueSize` value per CPU, or null when there is none. EINVAL for other maps. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | null;
  /** Writes a value (`UpdateFlag.ANY`, `NOEXIST`, `EXIST`). Percpu maps take every CPU's value. */
  update(key: Uint8Array, value: MapValueInput, flags?: number): void;
  /** Deletes `key`; false when it was not there. */
  delete(key: Uint8Array): boolean;
  /** Removes `key` and returns its value, or null when it was not there. */
  lookupAndDelete(key: Uint8Array): Uint8Array | null;
  /** The key after `key` (the first one for null, or for a hash key not in the map), or null at the end. */
  nextKey(key: Uint8Array | null): Uint8Array | null;
  /** Every key, in the map's iteration order. */
  keys(): Uint8Array[];
  /** Every key with its value (`lookup`'s format). */
  entries(): Array<[Uint8Array, Uint8Array]>;

  /** Every entry, `chunk` per batch where the map type has batches (element by element where not). */
  lookupBatch(chunk?: number): Array<[Uint8Array, Uint8Array]>;
  /** Every entry, removed as it is read. */
  lookupAndDeleteBatch(chunk?: number): Array<[Uint8Array, Uint8Array]>;
  /** Writes every entry; returns how many were written. */
  updateBatch(entries: Iterable<readonly [Uint8Array, MapValueInput]>, flags?: number): number;
  /** Deletes every key; returns how many were deleted. */
  deleteBatch(keys: Iterable<Uint8Array>): number;

  /** Queue/stack: adds a value (`UpdateFlag.EXIST` replaces the oldest when full). Bloom filter: adds it. */
  push(value: Uint8Array, flags?: number): void;
  /** Queue/stack: removes and returns the next value, or null when empty. */
  pop(): Uint8Array | null;
  /** Queue/stack: the next value, or null when empty. */
  peek(): Uint8Array | null;
  /**
   * Queue/stack: every value in pop order, leaving them in place. (The
   * kernel has no such call: it pops them all and pushes them back, so do
   * not call it while programs run.)
   */
  values(): Uint8Array[];
  /** Bloom filter: false when `value` was certainly never added. */
  mayContain(value: Uint8Array): boolean;

  /**
   * Ring buffer: the records committed since the last call, in order (at
   * most `limit`). Perf event array: the samples written since the last
   * call (the vm only so far; the kernel's perf buffer reader is not there
   * yet, so the kernel throws ENOTSUPP).
   */
  events(limit?: number): Uint8Array[];

  /** prog_array: the name of the collection's program in slot `index`, or null when the slot is empty. */
  program(index: number): string | null;
  /** prog_array: puts the collection's program `name` in slot `index` (null empties it). */
  setProgram(index: number, name: string | null): void;

  /** Makes the map read-only for user space (programs still write it). */
  freeze(): void;
}

/** What a test-run gets: the kernel's BPF_PROG_TEST_RUN input. */
export interface TestRunInput {
  /**
   * The packet (XDP, tc, socket filter: from its Ethernet header, at least
   * 14 bytes). XDP with a ctx whose `data` is n: the first n bytes are
   * metadata in front of the packet.
   */
  data?: Uint8Array;
  /** The context given in (`struct xdp_md`, `struct __sk_buff`), as the kernel takes it. */
  ctxIn?: Uint8Array;
  /**
   * Run this many times (0 and 1: once); the result is the last run's and
   * `duration` the mean. Maps see every run. The kernel reruns XDP programs
   * on the buffer the previous run left; the vm starts each run from `data`.
   */
  repeat?: number;
  /** vm: the virtual CPU the run is on (percpu maps). The kernel runs on the calling thread's CPU. */
  cpu?: number;
}

/** What a test-run gives: the kernel's BPF_PROG_TEST_RUN output. */
export interface TestRunOutput {
  /** r0, 32 bits unsigned. */
  retval: number;
  /**
   * The packet after the run: XDP the metadata and the packet; tc the packet;
   * socket filters the packet with its Ethernet header zeroed (the program
   * saw it from the network header on).
   */
  dataOut: Uint8Array;
  /** The context after the run, when one was given in. */
  ctxOut?: Uint8Array;
  /** Nanoseconds per run. */
  duration: number;
  /** vm only: instructions executed over all runs, tail calls included. */
  insns?: number;
}

/** A program of a loaded collection. */
export interface CollectionProgram {
  readonly name: string;
  readonly type: ProgTypeName;
  readonly section: string;
  /**
   * Runs the program as BPF_PROG_TEST_RUN does. Both backends run XDP, tc
   * (`SCHED_CLS`, `SCHED_ACT`) and socket filter programs; the kernel also
   * whatever else its test-run takes. Bad input is a `CollectionError`
   * (EINVAL as the kernel); a vm program that faults throws its `VmFault`.
   */
  testRun(input: TestRunInput): TestRunOutput;
}

/** An object loaded into a backend. Close it (or `using` it) when done. */
export interface Collection {
  readonly backend: BackendName;
  readonly spec: ObjectSpec;
  readonly maps: ReadonlyMap<string, CollectionMap>;
  readonly programs: ReadonlyMap<string, CollectionProgram>;
  /** The map, or a typed error (`ENOMAP`) naming the maps there are. */
  map(name: string): CollectionMap;
  /** The program, or a typed error (`ENOPROG`) naming the programs there are. */
  program(name: string): CollectionProgram;
  readonly closed: boolean;
  /** Frees the collection (the kernel's fds); using it afterwards throws `ECLOSED`. Closing twice does nothing. */
  close(): void;
  [Symbol.dispose](): void;
}

/** What loads a spec into one backend. */
export type BackendLoader = (spec: ObjectSpec, opts: LoadOptions) => Collection;

const loaders = new Map<BackendName, BackendLoader>();

/**
 * Makes a backend available to `load`. The vm registers itself; the kernel
 * backend (Node only) registers when `tsbpf` (not the portable `tsbpf/core`)
 * or `src/api/node.js` is imported.
 */
export function registerBackend(name: BackendName, loader: BackendLoader): void {
  loaders.set(name, loader);
}

/** Loads `spec` into the vm (the default) or the kernel. */
export function load(spec: ObjectSpec, opts: LoadOptions = {}): Collection {
  const backend = opts.backend ?? 'vm';
  if (!BACKENDS.includes(backend)) throw new BackendOptionError(`unknown backend "${String(backend)}" (there are: ${BACKENDS.join(', ')})`, backend);
  const loader = loaders.get(backend);
  if (loader === undefined) {
    throw new BackendOptionError(`the ${backend} backend is not part of this build: it needs Node; import "tsbpf" rather than the portable "tsbpf/core"`, backend);
  }
  return loader(spec, opts);
}

/** `backend` names no backend, or one this build does not have. */
export class BackendOptionError extends TsbpfError {
  constructor(message: string, backend: string) {
    super('EBACKEND', message, { backend });
  }
}
