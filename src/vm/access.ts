import type { AddressSpace, Region } from './address-space.js';
import { VmFault } from './errors.js';
import type { PseudoResolver } from './interpreter.js';

const TWO32 = 4294967296;

/** Raises the EFAULT for an access of `size` bytes at the 64-bit address `a`. */
export function badAccess(space: AddressSpace, pc: number, a: bigint, size: number, write: boolean): never {
  const near = space.nearest(a < BigInt(Number.MAX_SAFE_INTEGER) ? Number(a) : Number.MAX_SAFE_INTEGER);
  let msg = `${write ? 'write' : 'read'} of ${size} byte${size > 1 ? 's' : ''} at 0x${a.toString(16)}`;
  if (near !== null) {
    const inside = Number(a) >= near.start && Number(a) < near.end;
    msg += inside
      ? (write && !near.writable ? ` into read-only region ${near.name}` : ` runs past the end of region ${near.name}`)
      : ' is outside every region';
    msg += ` (nearest: ${near.name} [0x${near.start.toString(16)}, 0x${near.end.toString(16)}))`;
  } else {
    msg += ' is outside every region';
  }
  throw new VmFault('EFAULT', msg, pc, a, near?.name ?? null);
}


/**
 * The region that holds an access of `size` bytes at the 64-bit address
 * `addr`, or the same EFAULT the interpreter raises. The JIT's slow path.
 */
export function resolveAccess(space: AddressSpace, addr: bigint, size: number, write: boolean, pc: number): Region {
  if (addr < 0n || addr >= BigInt(TWO32) - BigInt(size) + 1n) return badAccess(space, pc, addr, size, write);
  const r = space.find(Number(addr), size, write);
  if (r === null) return badAccess(space, pc, addr, size, write);
  return r;
}

/** The message of the fault for an lddw pseudo source the vm cannot resolve. */
export const pseudoMessage = (src: number, imm: number): string =>
  `lddw with pseudo source ${src} (imm ${imm}) needs maps or BTF, which this vm does not have`;

/** What a helper (or kfunc) threw, as the typed fault that ends the run. */
export function helperFault(e: unknown, pc: number): VmFault {
  if (e instanceof VmFault) return e;
  return new VmFault('EHELPER', `helper failed: ${e instanceof Error ? e.message : String(e)}`, pc);
}

/** The value of an lddw pseudo source, or the typed fault both engines raise. */
export function pseudoValue(resolve: PseudoResolver | undefined, src: number, imm: number, imm2: number, pc: number): bigint {
  if (resolve === undefined) throw new VmFault('EPSEUDO', pseudoMessage(src, imm), pc);
  try {
    return resolve(src, imm, imm2, pc);
  } catch (e) {
    if (e instanceof VmFault) throw e;
    throw new VmFault('EPSEUDO', `lddw pseudo source ${src} (imm ${imm}): ${e instanceof Error ? e.message : String(e)}`, pc);
  }
}
