/**
 * What every hook shares: how a program is run (`RunFn`), the typed error
 * hooks raise, errno values helpers return, and small memory accessors that
 * check the pointers a program hands to a helper.
 */
import { TsbpfError } from '../../errors.js';
import type { AddressSpace, Region } from '../address-space.js';
import type { HelperEnv, RunHost } from '../helpers.js';
import { VmFault } from '../errors.js';
import type { Vm } from '../vm.js';

/**
 * Runs one program (the collection behind it handles tail calls) with
 * r1-r5 = `args` and `host` as what helpers see as `env.host`; returns r0.
 * `packet` is what LD_ABS / LD_IND read (socket filters and tc), when the
 * hook has one.
 */
export type RunFn = (args: readonly bigint[], host: RunHost, packet?: Region | null) => bigint;

/** A `RunFn` over one `Vm` (built over the hook's address space, with the hook's helpers registered). */
export function vmRunner(vm: Vm): RunFn {
  return (args, host, packet) => {
    vm.host = host;
    return vm.run({ args, packet: packet ?? null }).r0;
  };
}

export type HookErrorCode =
  | 'EFRAME' // a frame too short or too long for the hook (the kernel's EINVAL)
  | 'ECTXIN' // a ctx field given to `run` that the kernel would refuse (EINVAL)
  | 'EHOOK'; // a hook used wrongly: unknown event, bad argument, no room left

/** A frame or option a hook refuses, with the kernel's errno where there is one. */
export class HookError extends TsbpfError {
  constructor(code: HookErrorCode, message: string, where: Record<string, unknown> = {}) {
    super(code, message, where);
  }
}

/** Errno values helpers return (negated), as the kernel's helpers do. */
export const EFAULT = 14;
export const EINVAL = 22;
export const ENOMEM = 12;
export const ENOTSUPP = 524;

/** A helper's negative errno as the unsigned 64-bit r0. */
export const err = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));

/** ETH_HLEN: the kernel's test-run refuses shorter input (EINVAL). */
export const ETH_HLEN = 14;
/** `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))` on x86-64: tailroom of a test-run buffer. */
export const SHINFO_SIZE = 320;
/** The page a test-run frame lives in. */
export const PAGE_SIZE = 4096;
/** The loopback device test-runs use: ifindex 1, all-zero address and broadcast address. */
export const LOOPBACK_IFINDEX = 1;

/** Unsigned 32-bit value of a helper argument. */
export const u32 = (v: bigint): number => Number(v & 0xffffffffn);
/** Signed 32-bit value of a helper argument (`int` parameters). */
export const s32 = (v: bigint): number => Number(BigInt.asIntN(32, v));

/**
 * The address of `len` bytes helper `helper` reads (`write` false) or writes
 * at `ptr`, checked against the regions a program may touch. A bad pointer
 * ends the run with the EFAULT fault the kernel's verifier would have
 * prevented.
 */
export function memory(env: HelperEnv, ptr: bigint, len: number, write: boolean, helper: string, what: string): number {
  if (len === 0) return 0;
  if (ptr < 0n || ptr + BigInt(len) > 0x100000000n || env.space.find(Number(ptr), len, write) === null) {
    const near = env.space.nearest(ptr < 0x100000000n ? Number(ptr) : 0xffffffff);
    throw new VmFault(
      'EFAULT',
      `bpf_${helper}: ${what}: ${len} byte${len === 1 ? '' : 's'} at 0x${ptr.toString(16)} ${write ? 'are not writable' : 'are not readable'} memory`,
      env.pc ?? -1, ptr, near?.name ?? null,
    );
  }
  return Number(ptr);
}

/** The hook state a helper needs from `env.host`, or the helper's fault when the run is not that hook's. */
export function hostState<T>(env: HelperEnv, field: string, type: abstract new (...a: never[]) => T, helper: string): T {
  const s = env.host[field];
  if (!(s instanceof type)) throw new VmFault('EHELPER', `bpf_${helper} needs the ${field} of a hook's run in env.host.${field}`, env.pc ?? -1);
  return s;
}

/** Checks that r1 is the hook's context, as the kernel's verifier guarantees. */
export function checkCtx(env: HelperEnv, r1: bigint, ctx: Region, helper: string): void {
  if (r1 !== BigInt(ctx.start)) {
    throw new VmFault('EHELPER', `bpf_${helper}: r1 = 0x${r1.toString(16)} is not the context (0x${ctx.start.toString(16)})`, env.pc ?? -1);
  }
}

/** Copies `bytes` into the space at `addr` (hooks write regions programs may not). */
export function put(space: AddressSpace, addr: number, bytes: Uint8Array): void {
  space.u8.set(bytes, addr);
}

/** A copy of `len` bytes at `addr`. */
export function copyOut(space: AddressSpace, addr: number, len: number): Uint8Array {
  return space.u8.slice(addr, addr + len);
}

/** A region-shaped window for LD_ABS / LD_IND: `[start, start + len)`. */
export function window(start: number, len: number): Region {
  return { name: 'packet-data', kind: 'packet', start, end: start + len, writable: false, active: true };
}
