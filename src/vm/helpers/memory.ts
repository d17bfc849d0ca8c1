/**
 * What helpers share: errno returns, argument narrowing, and memory access
 * through the address space with every pointer argument checked against its
 * regions (a bad pointer is the EFAULT fault the verifier would have
 * prevented, naming the helper, the address and the nearest region).
 */
import { VmFault } from '../errors.js';
import type { HelperDef, HelperEnv, HelperFn } from './registry.js';

/** The errno values helpers return (negated). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  ELOOP: 40,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
} as const;

/** `-errno` as the unsigned 64-bit r0 a helper returns. */
export const err = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));
/** A signed result as r0. */
export const ret = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));
/** The low 32 bits of a register, as the kernel's u32 parameters see it. */
export const u32 = (v: bigint): number => Number(v & 0xffffffffn);
/** The low 32 bits, sign-extended (an `int` parameter). */
export const s32 = (v: bigint): number => u32(v) | 0;

/** A helper definition, named without the `bpf_` prefix. */
export const helper = (id: number, name: string, fn: HelperFn): HelperDef => ({ id, name, fn });

const LIMIT = 2n ** 32n;

function describe(env: HelperEnv, addr: bigint, size: number, write: boolean): { msg: string; region: string | null } {
  const space = env.space;
  const near = space.nearest(addr < BigInt(Number.MAX_SAFE_INTEGER) ? Number(addr) : Number.MAX_SAFE_INTEGER);
  let msg = `${write ? 'write' : 'read'} of ${size} byte${size === 1 ? '' : 's'} at 0x${addr.toString(16)}`;
  if (near === null) return { msg: `${msg} is outside every region`, region: null };
  const inside = addr >= BigInt(near.start) && addr < BigInt(near.end);
  msg += inside
    ? (write && !near.writable ? ` into read-only region ${near.name}` : ` runs past the end of region ${near.name}`)
    : ' is outside every region';
  msg += ` (nearest: ${near.name} [0x${near.start.toString(16)}, 0x${near.end.toString(16)}))`;
  return { msg, region: near.name };
}

/** The EFAULT fault for a pointer argument of `helper` that is not in a suitable region. */
export function badPointer(env: HelperEnv, helper: string, what: string, addr: bigint, size: number, write: boolean): VmFault {
  const { msg, region } = describe(env, addr, size, write);
  return new VmFault('EFAULT', `bpf_${helper}: ${what}: ${msg}`, env.pc ?? -1, addr, region);
}

/** True when [addr, addr + size) lies in one active region (writable, for a write). */
export function accessible(env: HelperEnv, addr: bigint, size: number, write: boolean): boolean {
  if (size === 0) return true;
  if (addr < 0n || addr + BigInt(size) > LIMIT) return false;
  return env.space.find(Number(addr), size, write) !== null;
}

/**
 * Checks a pointer argument of `size` bytes and returns it as a number;
 * faults otherwise. A size of 0 needs no memory (the verifier allows any
 * pointer, NULL included, with a zero size).
 */
export function pointer(env: HelperEnv, helper: string, what: string, addr: bigint, size: number, write: boolean): number {
  if (size === 0) return Number(addr & 0xffffffffn);
  if (!accessible(env, addr, size, write)) throw badPointer(env, helper, what, addr, size, write);
  return Number(addr);
}

/** Copies `size` bytes from a checked pointer argument. */
export function readArg(env: HelperEnv, helper: string, what: string, addr: bigint, size: number): Uint8Array {
  const at = pointer(env, helper, what, addr, size, false);
  return env.space.u8.slice(at, at + size);
}

/** Writes `bytes` through a checked pointer argument. */
export function writeArg(env: HelperEnv, helper: string, what: string, addr: bigint, bytes: Uint8Array): void {
  const at = pointer(env, helper, what, addr, bytes.length, true);
  env.space.u8.set(bytes, at);
}

/** Stores a u64 through a checked pointer argument. */
export function writeU64(env: HelperEnv, helper: string, what: string, addr: bigint, v: bigint): void {
  const at = pointer(env, helper, what, addr, 8, true);
  env.space.view.setBigUint64(at, BigInt.asUintN(64, v), true);
}

/**
 * Reads a NUL-terminated string argument that must end inside the region it
 * starts in (the kernel's ARG_PTR_TO_CONST_STR); returns its bytes without
 * the NUL.
 */
export function readCString(env: HelperEnv, helper: string, what: string, addr: bigint): Uint8Array {
  if (!accessible(env, addr, 1, false)) throw badPointer(env, helper, what, addr, 1, false);
  const start = Number(addr);
  const r = env.space.find(start, 1, false)!;
  const u8 = env.space.u8;
  for (let k = start; k < r.end; k++) if (u8[k] === 0) return u8.slice(start, k);
  throw new VmFault('EFAULT', `bpf_${helper}: ${what} at 0x${addr.toString(16)} has no NUL before the end of region ${r.name}`, env.pc ?? -1, addr, r.name);
}

/**
 * Reads a string of at most `max` bytes (NUL included) from unchecked memory
 * the way the kernel's strncpy_from_*_nofault does: it reads until a NUL or
 * `max` bytes, and returns the bytes before the NUL (at most `max - 1`), or
 * null when a byte it had to read is outside every region.
 */
export function probeString(env: HelperEnv, addr: bigint, max: number): Uint8Array | null {
  if (max <= 0) return new Uint8Array(0);
  if (!accessible(env, addr, 1, false)) return null;
  const start = Number(addr);
  // Regions never touch, so a string that runs past its region's end faults.
  const end = env.space.find(start, 1, false)!.end;
  const u8 = env.space.u8;
  for (let k = 0; k < max; k++) {
    if (start + k >= end) return null;
    if (u8[start + k] === 0) return u8.slice(start, start + k);
  }
  return u8.slice(start, start + max - 1);
}

/** Reads `size` bytes from unchecked memory, or null when they are not all in one region. */
export function probeBytes(env: HelperEnv, addr: bigint, size: number): Uint8Array | null {
  if (size === 0) return new Uint8Array(0);
  if (!accessible(env, addr, size, false)) return null;
  const at = Number(addr);
  return env.space.u8.slice(at, at + size);
}
