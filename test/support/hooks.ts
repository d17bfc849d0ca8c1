// What test/vm-hooks.test.ts shares: the fixture programs, a seeded random
// source, frame and ctx generators, and runners for the vm and the kernel.
import { readFileSync } from 'node:fs';
import { parseElf } from '../../src/elf/index.js';
import { decode, type Instruction } from '../../src/isa/index.js';
import { AddressSpace, Vm, defaultHelpers, stackFrames, type Engine, type HelperDef, type Region } from '../../src/vm/index.js';
import { vmRunner, type RunFn, type SkbRunOptions } from '../../src/vm/hooks/index.js';
import { REPO_ROOT } from './conformance-data.js';

export const HOOKS_DIR = `${REPO_ROOT}testdata/hooks/`;

/** The bytes of program `name` (a function symbol) or of section `name` in testdata/hooks/`file`. */
export function fixture(file: string, name: string): Uint8Array {
  const elf = parseElf(new Uint8Array(readFileSync(HOOKS_DIR + file)));
  const sym = elf.symbols.find((s) => s.name === name && s.type === 2 /* STT_FUNC */);
  if (sym) {
    const sec = elf.sections[sym.shndx]!;
    return sec.data.slice(sym.value, sym.value + sym.size);
  }
  const sec = elf.section(name);
  if (!sec) throw new Error(`${file} has no program or section ${name}`);
  return sec.data.slice();
}

/** The `.BTF` section of a fixture. */
export function fixtureBtf(file: string): Uint8Array {
  const elf = parseElf(new Uint8Array(readFileSync(HOOKS_DIR + file)));
  return elf.section('.BTF')!.data.slice();
}

/** xorshift32, seeded: the same frames on every run unless HOOKS_SEED says otherwise. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.u32() % (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.u32() % xs.length]!;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }
}

export const SEED = Number(process.env['HOOKS_SEED'] ?? 0x7ac0ffee);

const DESTS = [
  [0, 0, 0, 0, 0, 0], // loopback's own address: PACKET_HOST
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // broadcast: multicast on loopback
  [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb], // multicast
  [0x02, 0x42, 0xac, 0x11, 0x00, 0x02], // another host
];
const TYPES = [0x0800, 0x86dd, 0x0806, 0x8100, 0x0040, 0x05ff, 0x0600];

/**
 * A random Ethernet frame of `len` bytes with an interesting destination and
 * EtherType (IPv4 and IPv6 only when the fixed header fits: the kernel's skb
 * test-run refuses shorter ones).
 */
export function randomFrame(rng: Rng, len: number): Uint8Array {
  const f = rng.bytes(len);
  f.set(rng.pick(DESTS), 0);
  if (len >= 14) {
    let t = rng.pick(TYPES);
    if ((t === 0x0800 && len < 34) || (t === 0x86dd && len < 54)) t = 0x0806;
    f[12] = t >> 8;
    f[13] = t & 0xff;
  }
  if (len >= 16 && rng.chance(0.2)) f.set([0xff, 0xff], 14);
  return f;
}

/** Random `__sk_buff` fields to give in (all within what the kernel accepts for a packet of `len`). */
export function randomSkbCtx(rng: Rng, len: number): SkbRunOptions {
  const o: SkbRunOptions = {};
  if (rng.chance(0.5)) o.mark = rng.u32();
  if (rng.chance(0.5)) o.priority = rng.u32();
  if (rng.chance(0.5)) o.ingressIfindex = rng.int(0, 5);
  if (rng.chance(0.3)) o.ifindex = rng.int(0, 1);
  if (rng.chance(0.5)) o.cb = [rng.u32(), rng.u32(), rng.u32(), rng.u32(), rng.u32()];
  if (rng.chance(0.4)) o.tstamp = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
  if (rng.chance(0.4)) o.wireLen = rng.int(len, 65536);
  if (rng.chance(0.4)) o.gsoSegs = rng.int(0, 65535);
  if (rng.chance(0.4)) o.gsoSize = rng.u32() & 0xffff;
  if (rng.chance(0.4)) o.hwtstamp = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
  return o;
}

/** The kernel's ctx_in for these fields. */
export function skbCtxIn(o: SkbRunOptions): Uint8Array {
  const c = new Uint8Array(192);
  const v = new DataView(c.buffer);
  v.setUint32(8, o.mark ?? 0, true);
  v.setUint32(32, o.priority ?? 0, true);
  v.setUint32(36, o.ingressIfindex ?? 0, true);
  v.setUint32(40, o.ifindex ?? 0, true);
  (o.cb ?? []).forEach((w, k) => v.setUint32(48 + 4 * k, w, true));
  v.setBigUint64(152, o.tstamp ?? 0n, true);
  v.setUint32(160, o.wireLen ?? 0, true);
  v.setUint32(164, o.gsoSegs ?? 0, true);
  v.setUint32(176, o.gsoSize ?? 0, true);
  v.setBigUint64(184, o.hwtstamp ?? 0n, true);
  return c;
}

/** What the kernel gave back in ctx_out. */
export function skbCtxOut(c: Uint8Array): { mark: number; priority: number; cb: number[]; tstamp: bigint; wireLen: number; ifindex: number } {
  const v = new DataView(c.buffer, c.byteOffset, c.byteLength);
  return {
    mark: v.getUint32(8, true),
    priority: v.getUint32(32, true),
    cb: [0, 1, 2, 3, 4].map((k) => v.getUint32(48 + 4 * k, true)),
    tstamp: v.getBigUint64(152, true),
    wireLen: v.getUint32(160, true),
    ifindex: v.getUint32(40, true),
  };
}

const framesOf = new WeakMap<AddressSpace, Region[]>();

/** A `RunFn` for `insns` in the hook's address space, with the common helpers and the hook's. */
export function runner(hook: { space: AddressSpace; helpers(): HelperDef[] }, insns: readonly Instruction[] | Uint8Array, engine: Engine): RunFn {
  let frames = framesOf.get(hook.space);
  if (!frames) {
    frames = stackFrames(hook.space);
    framesOf.set(hook.space, frames);
  }
  const prog = insns instanceof Uint8Array ? decode(insns) : insns;
  const helpers = defaultHelpers().registerAll(hook.helpers());
  return vmRunner(new Vm(prog, { space: hook.space, frames, helpers, engine }));
}

/** a ++ b */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
