/**
 * `loadVm`: an `ObjectSpec` loaded into the vm. Its maps are created in one
 * address space, its programs are relocated against them (an `lddw` of a map
 * becomes the map's handle, of global data the value's address) and each gets
 * a `Vm` over that space with the helpers of its program type. Tail calls
 * between the collection's programs are followed here.
 */
import { TsbpfError } from '../errors.js';
import { essentialName, isModifier, resolveCoreRelo, type Btf } from '../btf/index.js';
import type { Instruction } from '../isa/index.js';
import type { MapSpec, ObjectSpec, ProgramSpec, ProgTypeName } from '../object/index.js';
import { MapType, PseudoSrc } from '../object/kinds.js';
import { AddressSpace, type Region } from './address-space.js';
import { RunExit, VmFault } from './errors.js';
import { HelperRegistry, type RunHost } from './helpers.js';
import { commonHelpers, type HelperHost, type TailCall } from './helpers/index.js';
import { socketFilterHelpers, tcHelpers, xdpHelpers, SOCKET_FILTER_HELPERS, TC_HELPERS, TRACING_HELPERS, XDP_HELPERS } from './hooks/index.js';
import { ArrayOfMapsMap, HashOfMapsMap, MapTable, ProgArrayMap, type MapDesc, type VmMap } from './maps/index.js';
import { stackFrames, Vm, type Engine, type RunResult } from './vm.js';

export interface VmLoadOptions {
  /** `jit` (the default) or `interp`. */
  engine?: Engine;
  /** Virtual CPUs: percpu maps hold one value per CPU (default 1). */
  cpus?: number;
  /** Instructions one run may execute, tail calls and callbacks included. */
  budget?: number;
  /**
   * Where `bpf_printk` lines go. By default they are kept in
   * `VmCollection.trace` (the last 10,000), as the kernel keeps them in its
   * trace buffer.
   */
  printk?: (text: string, program: string) => void;
}

const TRACE_LINES = 10_000;

/** Loading a spec into the vm failed: a map or a relocation the vm cannot make. */
export class VmLoadError extends TsbpfError {
  constructor(message: string, where: Record<string, unknown>) {
    super('EVMLOAD', message, where);
  }
}

/**
 * The types whose layout the vm presents exactly as the kernel's UAPI
 * defines them (the hook contexts): a CO-RE relocation against one of them
 * resolves to what clang compiled in. Any other type is kernel-internal and
 * has no vm counterpart.
 */
export const VM_CORE_TYPES: ReadonlySet<string> = new Set(['xdp_md', '__sk_buff', 'pt_regs', 'bpf_sock', 'bpf_sock_tuple']);

/** The root type a CO-RE record starts from, by essential name. */
function coreRoot(btf: Btf, typeId: number): string {
  let t = btf.get(typeId);
  for (let n = 0; n < 32 && isModifier(t) && t.kind !== 'typedef'; n++) t = btf.get(t.type);
  return essentialName(t.name);
}

/** Which helper ids a program type may call, where the vm knows (the hooks measured them on Linux 6.18). */
function allowedFor(type: ProgTypeName): readonly number[] | null {
  switch (type) {
    case 'XDP': return XDP_HELPERS;
    case 'SCHED_CLS': case 'SCHED_ACT': return TC_HELPERS;
    case 'SOCKET_FILTER': return SOCKET_FILTER_HELPERS;
    case 'KPROBE': case 'TRACEPOINT': return TRACING_HELPERS;
    default: return null;
  }
}

/**
 * The helpers a program type gets in the vm: the common ones and its hook's
 * packet helpers, limited to what the kernel's verifier allows that type. A
 * call to one it does not allow faults saying so, as the kernel would have
 * refused the program.
 */
export function helpersFor(type: ProgTypeName): HelperRegistry {
  const all = commonHelpers();
  const extra = type === 'XDP' ? xdpHelpers() : type === 'SCHED_CLS' || type === 'SCHED_ACT' ? tcHelpers()
    : type === 'SOCKET_FILTER' ? socketFilterHelpers() : [];
  for (const h of extra) all.register(h);
  const allowed = allowedFor(type);
  if (allowed === null) return all;
  const ok = new Set(allowed);
  const reg = new HelperRegistry();
  for (const h of all.list()) {
    reg.register(ok.has(h.id) ? h : {
      id: h.id,
      name: h.name,
      fn: (env) => {
        throw new VmFault('EHELPER', `bpf_${h.name} (${h.id}) is not allowed in ${type} programs (the kernel's verifier refuses it)`, env.pc ?? -1);
      },
    });
  }
  return reg;
}

function mapDesc(m: MapSpec, cpus: number): MapDesc {
  return {
    name: m.name,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    // A perf event array without max_entries gets one slot per CPU, as libbpf gives it.
    maxEntries: m.type === MapType.PERF_EVENT_ARRAY && m.maxEntries === 0 ? cpus : m.maxEntries,
    flags: m.flags,
    mapExtra: m.mapExtra,
    innerMap: m.innerMap ? mapDesc(m.innerMap, cpus) : null,
    data: m.data,
  };
}

const lddw = (dst: number, v: bigint): Instruction => ({
  opcode: 0x18, dst, src: 0, off: 0, imm: Number(BigInt.asIntN(32, v)), imm2: Number(BigInt.asIntN(32, v >> 32n)),
});

/** A program of a vm collection: a `Vm` plus the tail calls out of it. */
export class VmProgram {
  readonly name: string;
  readonly id: number;
  readonly vm: Vm;

  /**
   * @param unsupported why this program cannot run in the vm (a CO-RE
   *   relocation against a kernel type), or null; thrown by `run`.
   */
  constructor(readonly spec: ProgramSpec, vm: Vm, id: number, private readonly budget: number, readonly unsupported: TsbpfError | null = null) {
    this.name = spec.name;
    this.vm = vm;
    this.id = id;
  }

  /**
   * Runs with r1-r5 = `args`. A tail call continues in the slot's program
   * with the same host (whose `tailCalls` counts them) and the remaining
   * budget; `insns` sums every program run.
   */
  run(args: readonly bigint[], host: RunHost = { cpu: 0 }, packet: Region | null = null): RunResult & { program: string } {
    if (this.unsupported) throw this.unsupported;
    let prog: VmProgram = this;
    let insns = 0;
    const h = host as HelperHost;
    h.tailCalls = 0;
    let a = args;
    for (;;) {
      prog.vm.host = host;
      prog.vm.budget = this.budget - insns;
      try {
        const r = prog.vm.run({ args: a, packet });
        return { ...r, insns: insns + r.insns, program: prog.name };
      } catch (e) {
        if (!(e instanceof RunExit) || e.reason !== 'tail_call') throw e;
        const t = e.data as TailCall;
        if (!(t.program instanceof VmProgram)) throw new VmLoadError(`tail call into ${t.program.name}, which is not a program of this collection`, { program: prog.name });
        if (t.program.unsupported) throw t.program.unsupported;
        // The kernel charges nothing for the jump; what ran before it counts.
        insns += prog.vm.budget - prog.vm.budgetLeft;
        h.tailCalls = t.count;
        prog = t.program;
        a = [t.ctx];
      }
    }
  }
}

/** An object loaded into the vm: maps and programs in one address space. */
export class VmCollection {
  readonly space = new AddressSpace();
  readonly frames = stackFrames(this.space);
  readonly table: MapTable;
  readonly maps = new Map<string, VmMap>();
  readonly programs = new Map<string, VmProgram>();
  readonly cpus: number;
  /** `bpf_printk` lines, when no `printk` option was given (the newest 10,000). */
  readonly trace: Array<{ program: string; text: string }> = [];

  constructor(readonly spec: ObjectSpec, readonly opts: VmLoadOptions = {}) {
    this.cpus = opts.cpus ?? 1;
    this.table = new MapTable(this.space, { cpus: this.cpus });
    for (const m of spec.maps.values()) this.maps.set(m.name, this.table.create(mapDesc(m, this.cpus)));
    let id = 1;
    for (const p of spec.programs.values()) {
      const { insns, unsupported } = this.core(p, this.relocate(p));
      const vm = new Vm(insns, {
        engine: opts.engine ?? 'jit',
        budget: opts.budget,
        helpers: helpersFor(p.type),
        space: this.space,
        frames: this.frames,
      });
      this.programs.set(p.name, new VmProgram(p, vm, id++, vm.budget, unsupported));
    }
    for (const m of spec.maps.values()) this.initSlots(m);
    // Read-only global data is frozen after load, as the kernel's loader does.
    for (const m of spec.maps.values()) if (m.readonly && m.data !== null) this.maps.get(m.name)!.freeze();
  }

  /** The host a run of `program` gets: CPU, printk sink, and what the caller adds. */
  host(program: string, cpu = 0, extra: Record<string, unknown> = {}): HelperHost {
    const sink = this.opts.printk;
    const trace = this.trace;
    const printk = sink ? (text: string) => sink(text, program) : (text: string) => {
      if (trace.push({ program, text }) > TRACE_LINES) trace.splice(0, trace.length - TRACE_LINES);
    };
    return { cpu, printk, ...extra };
  }

  private relocate(p: ProgramSpec): Instruction[] {
    const insns = p.insns.slice();
    for (const ref of p.maps) {
      const map = this.maps.get(ref.map);
      const at = insns[ref.insn];
      if (map === undefined || at === undefined || at.opcode !== 0x18) {
        throw new VmLoadError(`program ${p.name}: instruction ${ref.insn} refers to map ${ref.map}, which cannot be resolved`, { program: p.name, insn: ref.insn });
      }
      if (ref.kind === 'fd') {
        insns[ref.insn] = lddw(at.dst, BigInt(map.handle));
      } else {
        if (map.type !== MapType.ARRAY) throw new VmLoadError(`program ${p.name}: direct value access into ${ref.map}, which is not an array`, { program: p.name, insn: ref.insn });
        const base = map.lookup(new Uint8Array(4), 0);
        if (base === 0 || ref.offset < 0 || ref.offset >= map.valueSize) {
          throw new VmLoadError(`program ${p.name}: offset ${ref.offset} is outside map ${ref.map}'s ${map.valueSize}-byte value`, { program: p.name, insn: ref.insn });
        }
        insns[ref.insn] = lddw(at.dst, BigInt(base + ref.offset));
      }
    }
    for (const [k, i] of insns.entries()) {
      // What the loader left for a backend and the vm cannot resolve faults when it runs.
      if (i.opcode === 0x18 && (i.src === PseudoSrc.MAP_FD || i.src === PseudoSrc.MAP_VALUE) && !p.maps.some((r) => r.insn === k)) {
        throw new VmLoadError(`program ${p.name}: instruction ${k} loads a map that no relocation names`, { program: p.name, insn: k });
      }
    }
    return insns;
  }

  /**
   * Applies the program's CO-RE relocations against the types the vm knows.
   * A relocation against any other type leaves the program loaded but
   * unrunnable, with the reason `run` throws (like libbpf's poisoning).
   */
  private core(p: ProgramSpec, insns: Instruction[]): { insns: Instruction[]; unsupported: TsbpfError | null } {
    const btf = this.spec.btf;
    if (p.coreRelos.length === 0) return { insns, unsupported: null };
    if (btf === null) return { insns, unsupported: new VmLoadError(`program ${p.name} has CO-RE relocations but the object has no BTF`, { program: p.name }) };
    for (const r of p.coreRelos) {
      const root = coreRoot(btf, r.typeId);
      const at = insns[r.insn];
      if (!VM_CORE_TYPES.has(root) || at === undefined) {
        return {
          insns,
          unsupported: new VmLoadError(
            `program ${p.name} cannot run in the vm: instruction ${r.insn} has a CO-RE relocation against ${root ? `"${root}"` : 'an anonymous type'}, ` +
            `a kernel type the vm does not have (it knows ${[...VM_CORE_TYPES].join(', ')}); load it into the kernel instead`,
            { program: p.name, insn: r.insn, type: root },
          ),
        };
      }
      try {
        insns[r.insn] = resolveCoreRelo(btf, btf, r, at).insn;
      } catch (e) {
        if (e instanceof TsbpfError) return { insns, unsupported: e };
        throw e;
      }
    }
    return { insns, unsupported: null };
  }

  private initSlots(m: MapSpec): void {
    if (m.init.length === 0) return;
    const map = this.maps.get(m.name)!;
    for (const e of m.init) {
      const index = new DataView(e.key.buffer, e.key.byteOffset, e.key.byteLength).getUint32(0, true);
      const v = e.value;
      if (v instanceof Uint8Array) {
        map.updateValue(e.key, v);
      } else if (map instanceof ProgArrayMap && 'program' in v) {
        const prog = this.programs.get(v.program);
        if (prog === undefined) throw new VmLoadError(`map ${m.name}: slot ${index} names program ${v.program}, which the object does not have`, { map: m.name });
        map.setProgram(index, prog);
      } else if ((map instanceof ArrayOfMapsMap || map instanceof HashOfMapsMap) && 'map' in v) {
        const inner = this.maps.get(v.map);
        if (inner === undefined) throw new VmLoadError(`map ${m.name}: slot ${index} names map ${v.map}, which the object does not have`, { map: m.name });
        if (map instanceof ArrayOfMapsMap) map.setMap(index, inner); else map.setMap(e.key, inner);
      } else {
        throw new VmLoadError(`map ${m.name}: an initial slot the map type cannot hold`, { map: m.name });
      }
    }
  }
}

/** Loads `spec` into a fresh vm address space. */
export function loadVm(spec: ObjectSpec, opts: VmLoadOptions = {}): VmCollection {
  return new VmCollection(spec, opts);
}
