/**
 * The whole `struct bpf_prog_info` of a program (what `bpftool prog show`
 * prints): tag, sizes, load time, owner, the ids of the maps it uses, run
 * statistics. `info.ts` keeps the short form the loader needs.
 */
import { readFileSync } from 'node:fs';
import { BpfCommand, progTypeName } from './constants.js';
import { KernelError } from './errors.js';
import { addressOf, bpfRaw, loadFfi } from './syscall.js';
import { getInfoByFd } from './info.js';

const INFO_SIZE = 232;
/** Map ids fetched in the first call; more means a second call. */
const FIRST_MAP_IDS = 64;

export interface ProgDetails {
  id: number;
  type: number;
  typeName: string;
  name: string;
  /** The program's tag (hash of its instructions), 16 hex digits. */
  tag: string;
  gplCompatible: boolean;
  /** Wall-clock time of the load, or null when the boot time cannot be read. */
  loadedAt: Date | null;
  /** Nanoseconds since boot when it was loaded. */
  loadTimeNs: bigint;
  uid: number;
  /** Bytes of the instructions after the verifier's rewrites. */
  bytesXlated: number;
  /** Bytes of native code (0 when not JIT-compiled). */
  bytesJited: number;
  jited: boolean;
  mapIds: number[];
  btfId: number;
  nrFuncInfo: number;
  nrLineInfo: number;
  verifiedInsns: number;
  /** Run statistics, counted only while `kernel.bpf_stats_enabled` is on. */
  runTimeNs: bigint;
  runCnt: bigint;
  recursionMisses: bigint;
  ifindex: number;
  attachBtfObjId: number;
  attachBtfId: number;
}


/** One call with room for `cap` map ids; returns the info and the ids written. */
function fetch(fd: number, cap: number): { v: DataView; ids: Uint32Array; total: number } {
  const info = new Uint8Array(INFO_SIZE);
  const v = new DataView(info.buffer);
  const ids = new Uint32Array(cap);
  v.setUint32(52, cap, true);
  v.setBigUint64(56, addressOf(new Uint8Array(ids.buffer)), true);
  getInfoByFd(fd, info);
  return { v, ids, total: v.getUint32(52, true) };
}

let bootMs: number | null | undefined;

const CLOCK_BOOTTIME = 7;

/** Milliseconds since boot (CLOCK_BOOTTIME, the clock of `load_time`), or null. */
function sinceBootMs(): number | null {
  try {
    const { libc } = loadFfi();
    const gettime = libc.func('int clock_gettime(int, void *)') as (clock: number, ts: Uint8Array) => number;
    const ts = new Uint8Array(16);
    if (gettime(CLOCK_BOOTTIME, ts) === 0) {
      const v = new DataView(ts.buffer);
      return Number(v.getBigInt64(0, true)) * 1000 + Number(v.getBigInt64(8, true)) / 1e6;
    }
  } catch {
    // fall back to /proc/uptime
  }
  try {
    const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Number.isFinite(up) ? up * 1000 : null;
  } catch {
    return null;
  }
}

/** Wall-clock milliseconds at boot, measured once per process. */
function bootTimeMs(): number | null {
  if (bootMs !== undefined) return bootMs;
  const up = sinceBootMs();
  bootMs = up === null ? null : Date.now() - up;
  return bootMs;
}

function cName(v: DataView, at: number): string {
  const bytes = new Uint8Array(v.buffer, at, 16);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Everything BPF_OBJ_GET_INFO_BY_FD says about a program fd. */
export function progDetails(fd: number): ProgDetails {
  let r = fetch(fd, FIRST_MAP_IDS);
  if (r.total > FIRST_MAP_IDS) r = fetch(fd, r.total);
  const { v } = r;
  const tag = Array.from(new Uint8Array(v.buffer, 8, 8), (b) => b.toString(16).padStart(2, '0')).join('');
  const loadTimeNs = v.getBigUint64(40, true);
  const boot = bootTimeMs();
  const jitedLen = v.getUint32(16, true);
  const type = v.getUint32(0, true);
  return {
    id: v.getUint32(4, true),
    type,
    typeName: progTypeName(type),
    name: cName(v, 64),
    tag,
    gplCompatible: (v.getUint32(84, true) & 1) === 1,
    loadedAt: boot === null ? null : new Date(Math.round(boot + Number(loadTimeNs / 1_000_000n))),
    loadTimeNs,
    uid: v.getUint32(48, true),
    bytesXlated: v.getUint32(20, true),
    bytesJited: jitedLen,
    jited: jitedLen > 0,
    mapIds: Array.from(r.ids.subarray(0, Math.min(r.total, r.ids.length))),
    btfId: v.getUint32(128, true),
    nrFuncInfo: v.getUint32(144, true),
    nrLineInfo: v.getUint32(148, true),
    verifiedInsns: v.getUint32(216, true),
    runTimeNs: v.getBigUint64(192, true),
    runCnt: v.getBigUint64(200, true),
    recursionMisses: v.getBigUint64(208, true),
    ifindex: v.getUint32(80, true),
    attachBtfObjId: v.getUint32(220, true),
    attachBtfId: v.getUint32(224, true),
  };
}
