/**
 * Feature probing: which program types, map types and helpers (per program
 * type) this kernel supports, found by loading a minimal program or creating
 * a minimal map of each kind, as `bpftool feature probe` does. Every answer
 * is cached for the life of the process; helpers are probed per program
 * type, only when asked for.
 */
import { release } from 'node:os';
import { TsbpfError } from '../errors.js';
import { OP_CALL, OP_EXIT, encode, insn } from '../isa/index.js';
import { AttachType, MapFlag, MapType, type MapTypeName, ProgType, type ProgTypeName, progTypeName } from '../object/kinds.js';
import { BpfCommand, ProgFlag, errnoName } from './constants.js';
import { addressOf, bpfRaw, closeFd } from './syscall.js';
import { HELPER_NAMES, helperName } from './helper-names.js';

/** The answer for one feature: supported or not, and the errno that said no (or that came with a yes). */
export interface FeatureOutcome {
  readonly supported: boolean;
  /** The errno name of the failed load or create, when there was one. */
  readonly errno?: string;
}

export interface SupportedHelper {
  readonly id: number;
  readonly name: string;
}

const progCache = new Map<number, FeatureOutcome>();
const mapCache = new Map<number, FeatureOutcome>();
const helperCache = new Map<number, readonly SupportedHelper[]>();

const PROG_ATTR_SIZE = 144;
const MAP_ATTR_SIZE = 72;
const ENOTSUPP = 524;
const LOG_SIZE = 4096;
/** How many ids past the table of known helpers are probed at most. */
const MAX_UNKNOWN_HELPERS = 64;
const log = new Uint8Array(LOG_SIZE);
const license = new TextEncoder().encode('GPL\0');
const RET0 = encode([insn(0xb7, { dst: 0, imm: 0 }), insn(OP_EXIT)]);

function resolve<T extends Record<string, number>>(table: T, what: string, v: number | string): number {
  const n = typeof v === 'number' ? v : table[v];
  if (n === undefined || !Number.isInteger(n) || n < 0) throw new TsbpfError('EARG', `unknown ${what} ${String(v)}`, { [what]: v });
  return n;
}

/** What a program type needs at load beyond its type (libbpf's probe settings). */
function loadExtras(type: number): { attach?: number; btfId?: number; flags?: number } {
  switch (type) {
    case ProgType.SYSCALL: return { flags: ProgFlag.SLEEPABLE };
    case ProgType.CGROUP_SOCK_ADDR: return { attach: AttachType.CGROUP_INET4_CONNECT };
    case ProgType.CGROUP_SOCKOPT: return { attach: AttachType.CGROUP_GETSOCKOPT };
    case ProgType.SK_LOOKUP: return { attach: AttachType.SK_LOOKUP };
    case ProgType.NETFILTER: return { attach: AttachType.NETFILTER };
    // Types that attach to a BTF id: id 1 of vmlinux is never a valid target, so
    // a kernel that knows the type gets as far as saying so in the log.
    case ProgType.TRACING: return { attach: AttachType.TRACE_FENTRY, btfId: 1 };
    case ProgType.LSM: return { attach: AttachType.LSM_MAC, btfId: 1 };
    case ProgType.EXT: return { btfId: 1 };
    case ProgType.STRUCT_OPS: return { btfId: 1 };
    default: return {};
  }
}

/** BPF_PROG_LOAD of `code` with a log; returns the result and the log text. */
function tryLoad(type: number, code: Uint8Array): { ret: number; log: string } {
  const attr = new Uint8Array(PROG_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  const extras = loadExtras(type);
  v.setUint32(0, type, true);
  v.setUint32(4, code.byteLength / 8, true);
  v.setBigUint64(8, addressOf(code), true);
  v.setBigUint64(16, addressOf(license), true);
  v.setUint32(24, 1, true);
  v.setUint32(28, LOG_SIZE, true);
  v.setBigUint64(32, addressOf(log), true);
  v.setUint32(44, extras.flags ?? 0, true);
  v.setUint32(68, extras.attach ?? 0, true);
  v.setUint32(108, extras.btfId ?? 0, true);
  log[0] = 0;
  const ret = bpfRaw(BpfCommand.BPF_PROG_LOAD, attr);
  if (ret >= 0) closeFd(ret);
  const end = log.indexOf(0);
  return { ret, log: new TextDecoder().decode(log.subarray(0, end < 0 ? LOG_SIZE : end)) };
}

/**
 * Can programs of this type be loaded? A minimal `r0 = 0; exit` is loaded.
 * A kernel that can load the type either accepts it or has its verifier
 * explain in the log why this program does not attach (the BTF-id types
 * have no valid target here); an unknown type, or one the kernel refuses
 * outright (EPERM under lockdown...), fails with an empty log.
 */
export function progTypeSupport(type: number | ProgTypeName): FeatureOutcome {
  const t = resolve(ProgType, 'program type', type);
  const hit = progCache.get(t);
  if (hit) return hit;
  const { ret, log: text } = tryLoad(t, RET0);
  const out: FeatureOutcome = ret >= 0 ? { supported: true }
    : { supported: text.trim() !== '', errno: errnoName(-ret) };
  progCache.set(t, out);
  return out;
}

export const progTypeSupported = (type: number | ProgTypeName): boolean => progTypeSupport(type).supported;

interface MapProbeDef {
  key: number;
  value: number;
  max: number;
  flags?: number;
  /** Key and value types from the probe BTF (an int). */
  btf?: boolean;
  inner?: boolean;
  /** `btf_vmlinux_value_type_id` (struct_ops). */
  vmlinuxValue?: number;
}

function mapProbeDef(type: number): MapProbeDef {
  const page = 4096;
  switch (type) {
    case MapType.LPM_TRIE: return { key: 8, value: 8, max: 1, flags: MapFlag.NO_PREALLOC };
    case MapType.STACK_TRACE: return { key: 4, value: 8, max: 1 };
    case MapType.CGROUP_STORAGE:
    case MapType.PERCPU_CGROUP_STORAGE: return { key: 16, value: 8, max: 0 };
    case MapType.QUEUE:
    case MapType.STACK: return { key: 0, value: 4, max: 1 };
    case MapType.BLOOM_FILTER: return { key: 0, value: 4, max: 1 };
    case MapType.RINGBUF:
    case MapType.USER_RINGBUF: return { key: 0, value: 0, max: page };
    case MapType.ARENA: return { key: 0, value: 0, max: 1, flags: MapFlag.MMAPABLE };
    case MapType.SK_STORAGE:
    case MapType.INODE_STORAGE:
    case MapType.TASK_STORAGE:
    case MapType.CGRP_STORAGE: return { key: 4, value: 4, max: 0, flags: MapFlag.NO_PREALLOC, btf: true };
    case MapType.ARRAY_OF_MAPS:
    case MapType.HASH_OF_MAPS: return { key: 4, value: 4, max: 1, inner: true };
    case MapType.STRUCT_OPS: return { key: 4, value: 4, max: 1, vmlinuxValue: 1 };
    default: return { key: 4, value: 4, max: 1 };
  }
}

function createRaw(type: number, d: MapProbeDef, innerFd: number, btfFd: number): number {
  const attr = new Uint8Array(MAP_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, d.key, true);
  v.setUint32(8, d.value, true);
  v.setUint32(12, d.max, true);
  v.setUint32(16, d.flags ?? 0, true);
  v.setUint32(20, innerFd, true);
  if (btfFd >= 0) {
    v.setUint32(48, btfFd, true);
    v.setUint32(52, 1, true);
    v.setUint32(56, 1, true);
  }
  v.setUint32(60, d.vmlinuxValue ?? 0, true);
  return bpfRaw(BpfCommand.BPF_MAP_CREATE, attr);
}

/** A BTF blob with one type: `int` (id 1), for the map types that need key/value BTF. */
function intBtf(): Uint8Array {
  const strings = new TextEncoder().encode('\0int\0');
  const out = new Uint8Array(24 + 16 + strings.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, 24, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, 16, true);
  v.setUint32(16, 16, true);
  v.setUint32(20, strings.length, true);
  v.setUint32(24, 1, true); // name "int"
  v.setUint32(28, 1 << 24, true); // kind INT
  v.setUint32(32, 4, true); // size
  v.setUint32(36, (1 << 24) | 32, true); // signed, 32 bits
  out.set(strings, 40);
  return out;
}

function loadIntBtf(): number {
  const blob = intBtf();
  const attr = new Uint8Array(32);
  const v = new DataView(attr.buffer);
  v.setBigUint64(0, addressOf(blob), true);
  v.setUint32(16, blob.byteLength, true);
  return bpfRaw(BpfCommand.BPF_BTF_LOAD, attr);
}

/** Can maps of this type be created? A minimal map of the type is created and closed. */
export function mapTypeSupport(type: number | MapTypeName): FeatureOutcome {
  const t = resolve(MapType, 'map type', type);
  const hit = mapCache.get(t);
  if (hit) return hit;
  const d = mapProbeDef(t);
  const helpers: number[] = [];
  let out: FeatureOutcome;
  try {
    let innerFd = 0;
    if (d.inner) {
      innerFd = createRaw(MapType.ARRAY, { key: 4, value: 4, max: 1 }, 0, -1);
      if (innerFd < 0) throw new TsbpfError('EPROBE', 'the inner map of the probe could not be created', {});
      helpers.push(innerFd);
    }
    let btfFd = -1;
    if (d.btf) {
      btfFd = loadIntBtf();
      if (btfFd >= 0) helpers.push(btfFd);
    }
    const ret = createRaw(t, d, innerFd, btfFd);
    if (ret >= 0) {
      closeFd(ret);
      out = { supported: true };
    } else if (t === MapType.STRUCT_OPS && -ret === ENOTSUPP) {
      // Known type, but vmlinux type 1 is not a struct_ops value: what a kernel with struct_ops says.
      out = { supported: true, errno: errnoName(-ret) };
    } else {
      out = { supported: false, errno: errnoName(-ret) };
    }
  } catch (e) {
    if (!(e instanceof TsbpfError) || e.code !== 'EPROBE') throw e;
    out = { supported: false, errno: 'EINVAL' };
  } finally {
    for (const fd of helpers) closeFd(fd);
  }
  mapCache.set(t, out);
  return out;
}

export const mapTypeSupported = (type: number | MapTypeName): boolean => mapTypeSupport(type).supported;

/** The verifier's ways of saying a helper does not exist or not for this program type. */
const HELPER_REFUSED = /invalid func |unknown func |program of this type cannot use helper /;

/** Can a program of this type call helper `id`? (`call id; exit` is loaded; the log says whether the call itself was the problem.) */
function probeHelper(type: number, id: number): boolean {
  const code = encode([insn(OP_CALL, { imm: id }), insn(OP_EXIT)]);
  const { ret, log: text } = tryLoad(type, code);
  if (ret >= 0) return true;
  if (text.trim() === '') return false;
  return !HELPER_REFUSED.test(text);
}

/**
 * The helpers a program of this type may call on this kernel (probed once
 * per type, then cached). Ids past the known table are probed until one is
 * refused, so newer kernels' helpers appear as `helper#N`. Types whose
 * minimal program does not load here (those that need an attach target)
 * cannot be probed this way and give an empty list.
 */
export function supportedHelpers(type: number | ProgTypeName): readonly SupportedHelper[] {
  const t = resolve(ProgType, 'program type', type);
  const hit = helperCache.get(t);
  if (hit) return hit;
  const out: SupportedHelper[] = [];
  const base = progTypeSupport(t);
  if (base.supported && base.errno === undefined) {
    for (let id = 1; id < HELPER_NAMES.length; id++) if (probeHelper(t, id)) out.push({ id, name: helperName(id) });
    for (let id = HELPER_NAMES.length; id < HELPER_NAMES.length + MAX_UNKNOWN_HELPERS && probeHelper(t, id); id++) {
      out.push({ id, name: helperName(id) });
    }
  }
  helperCache.set(t, out);
  return out;
}

/** Can a program of this type call this helper (by id or `bpf_` name)? */
export function helperSupported(type: number | ProgTypeName, helper: number | string): boolean {
  const id = typeof helper === 'number' ? helper : HELPER_NAMES.indexOf(helper.replace(/^bpf_/, ''));
  if (id <= 0) throw new TsbpfError('EARG', `unknown helper ${String(helper)}`, { helper });
  return supportedHelpers(type).some((h) => h.id === id);
}

export interface FeatureReport {
  kernel: string;
  /** By program type name: can it be loaded. */
  programTypes: Record<string, boolean>;
  /** By map type name: can it be created. */
  mapTypes: Record<string, boolean>;
  /** By program type name, when asked for: the helpers it may call. */
  helpers?: Record<string, string[]>;
}

export interface FeatureProbeOptions {
  /** Program types whose helpers to probe (`'all'`: every supported type). Default: none. */
  helpers?: 'all' | ReadonlyArray<number | ProgTypeName>;
}

/** Every program and map type (and the helpers asked for), as one report. */
export function probeFeatures(opts: FeatureProbeOptions = {}): FeatureReport {
  const programTypes: Record<string, boolean> = {};
  for (const [name, n] of Object.entries(ProgType)) if (n !== 0) programTypes[name] = progTypeSupported(n);
  const mapTypes: Record<string, boolean> = {};
  for (const [name, n] of Object.entries(MapType)) if (n !== 0) mapTypes[name] = mapTypeSupported(n);
  const report: FeatureReport = { kernel: release(), programTypes, mapTypes };
  if (opts.helpers !== undefined) {
    const types = opts.helpers === 'all'
      ? Object.values(ProgType).filter((n) => n !== 0 && programTypes[progTypeName(n)])
      : opts.helpers.map((t) => resolve(ProgType, 'program type', t));
    report.helpers = {};
    for (const t of types) report.helpers[progTypeName(t)] = supportedHelpers(t).map((h) => h.name);
  }
  return report;
}

/** Forgets every cached answer (tests, or after loading a kernel module). */
export function clearFeatureCache(): void {
  progCache.clear();
  mapCache.clear();
  helperCache.clear();
}

