/**
 * `tsbpf run OBJ.o --pcap IN.pcap`: every packet program of an object runs on
 * every frame of a capture, each on the original frame, through the
 * collection API's test-run (`--backend vm`, the default, or `kernel`:
 * BPF_PROG_TEST_RUN in the running kernel); then the action counts, run
 * statistics, map contents and printk lines.
 */
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { load, BACKENDS, type BackendName, type Collection, type CollectionProgram, type TestRunOutput } from '../api/node.js';
import { AttachType, loadObject, mapTypeName, MapType, type ObjectSpec, type ProgTypeName } from '../object/index.js';
import { readCapture, writePcap, LINKTYPE_ETHERNET } from '../pcap/index.js';
import { VmFault, type Engine, ENGINES } from '../vm/index.js';
import { tcActionName, xdpActionName, XdpAction } from '../vm/hooks/index.js';
import { intFlag, parseArgs, UsageError } from './args.js';
import { InputError, readInput } from './input.js';
import { isTsbpfError } from '../errors.js';
import { objectName } from './inspect.js';
import { collectionMapEntries, mapText, type MapEntryJson } from './map-dump.js';
import { EXIT_FAULT, EXIT_OK, reportError, errorJson } from './report.js';

export const RUN_OBJECT_USAGE = `usage: tsbpf run OBJ.o --pcap IN.pcap [--prog NAME] [--out OUT.pcap] [--json]
                  [--backend vm|kernel] [--engine jit|interp] [--cpus N] [--budget N]

Loads a BPF object and runs its packet programs (XDP, tc, socket filter) on
every frame of IN.pcap (pcap or pcapng, Ethernet), or only --prog NAME, as
BPF_PROG_TEST_RUN does. Each program sees the original frame; maps are
shared. Programs an object puts in a prog_array only run as tail-call
targets. --out writes the frames XDP programs sent (XDP_TX, XDP_REDIRECT) as
pcap.

--backend vm (the default) runs in the vm: frames are spread over --cpus
virtual CPUs (default 1) in turn; --engine and --budget choose how it runs.
--backend kernel loads the object into the running Linux kernel (root, bpf(2))
and test-runs each frame there; --engine, --cpus and --budget do not apply.
The kernel writes bpf_printk lines to its trace buffer (see
/sys/kernel/tracing/trace): they are not captured, and "printk" stays empty.

--json prints one object:
  {"programs": {NAME: {"runs": N, "actions": {ACTION: N}}},
   "maps": {NAME: [ENTRY]}, "printk": [{"prog", "packet", "text"}]}`;

interface Runner {
  readonly prog: CollectionProgram;
  readonly actions: Map<string, number>;
  runs: number;
  ns: bigint;
  /** Instructions executed over all runs, tail calls included (the vm counts them; the kernel does not say). */
  insns: number | null;
}

/** A `struct xdp_md` given in: no metadata, the whole frame linear. */
function xdpCtx(len: number): Uint8Array {
  const ctx = new Uint8Array(24);
  new DataView(ctx.buffer).setUint32(4, len, true);
  return ctx;
}

/** The symbolic action of a program type's return value, as the JSON contract names it. */
function actionName(type: ProgTypeName, retval: number): string {
  if (type === 'XDP') return xdpActionName(retval);
  if (type === 'SOCKET_FILTER') return retval === 0 ? 'drop' : 'accept';
  return tcActionName(retval | 0);
}

const VALUED = ['--pcap', '--prog', '--out', '--backend', '--engine', '--cpus', '--budget', '--mem', '--repeat', '--syntax'];

/** True when `run`'s file is an ELF object (or --pcap is given): the object runner takes it. */
export function isObjectRun(argv: readonly string[]): boolean {
  if (argv.some((a) => a === '--pcap' || a.startsWith('--pcap='))) return true;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (VALUED.includes(a)) { k++; continue; }
    if (a.startsWith('-')) continue;
    try {
      const fd = openSync(a, 'r');
      const head = Buffer.alloc(4);
      try { readSync(fd, head, 0, 4, 0); } finally { closeSync(fd); }
      return head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
    } catch {
      return false;
    }
  }
  return false;
}

/** Captures can be large; the limit is what one Node buffer holds. */
const MAX_CAPTURE = 2 ** 31 - 1;
/** More virtual CPUs than this is a typo, not a machine. */
const MAX_CPUS = 1024;

/**
 * The programs `run` starts: packet programs that are not only tail-call
 * targets, not `?sec` (libbpf does not autoload those) and not XDP programs
 * meant for a devmap or cpumap (they see redirected frames, not ingress).
 */
export function entryPrograms(spec: ObjectSpec): string[] {
  const targets = new Set<string>();
  for (const m of spec.maps.values()) for (const e of m.init) if (!(e.value instanceof Uint8Array) && 'program' in e.value) targets.add(e.value.program);
  return [...spec.programs.values()]
    .filter((p) => ['XDP', 'SCHED_CLS', 'SCHED_ACT', 'SOCKET_FILTER'].includes(p.type) && !targets.has(p.name))
    .filter((p) => !p.section.startsWith('?') && p.expectedAttachType !== AttachType.XDP_DEVMAP && p.expectedAttachType !== AttachType.XDP_CPUMAP)
    .map((p) => p.name);
}

/** A frame the program type cannot take (too short or too long): skipped and counted, not fatal. */
function refusedFrame(e: unknown): boolean {
  if (!isTsbpfError(e)) return false;
  return e.code === 'EFRAME' || (e as { errnoName?: string }).errnoName === 'EINVAL' || e.where['errno'] === 'EINVAL';
}

export async function cmdRunObject(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  let col: Collection | null = null;
  try {
    const p = parseArgs(argv, ['--pcap', '--prog', '--out', '--backend', '--engine', '--cpus', '--budget'], ['--json', '--help']);
    if (p.flags.has('--help')) { process.stdout.write(RUN_OBJECT_USAGE + '\n'); return EXIT_OK; }
    if (p.positionals.length !== 1) throw new UsageError(`run takes one object file\n${RUN_OBJECT_USAGE}`);
    const pcapPath = p.flags.get('--pcap');
    if (typeof pcapPath !== 'string') throw new UsageError(`running an object needs --pcap IN.pcap\n${RUN_OBJECT_USAGE}`);
    const backend = (p.flags.get('--backend') ?? 'vm') as BackendName;
    if (!BACKENDS.includes(backend)) throw new UsageError(`unknown backend ${String(backend)} (available: ${BACKENDS.join(', ')})`);
    if (backend === 'kernel') {
      for (const f of ['--engine', '--cpus', '--budget']) if (p.flags.has(f)) throw new UsageError(`${f} is an option of the vm backend, not of --backend kernel`);
    }
    const engine = (p.flags.get('--engine') ?? 'jit') as Engine;
    if (!(ENGINES as readonly string[]).includes(engine)) throw new UsageError(`unknown engine ${engine} (available: ${ENGINES.join(', ')})`);
    const cpus = intFlag(p, '--cpus', 1);
    if (cpus > MAX_CPUS) throw new UsageError(`--cpus takes at most ${MAX_CPUS}`);
    const budget = intFlag(p, '--budget', 10_000_000);
    const path = p.positionals[0]!;
    const spec = loadObject(readInput(path), objectName(path));
    const capture = readCapture(readInput(pcapPath, MAX_CAPTURE));
    if (capture.linkType !== LINKTYPE_ETHERNET) throw new UsageError(`${pcapPath}: link type ${capture.linkType} is not Ethernet (1)`);

    const wanted = p.flags.get('--prog');
    const names = typeof wanted === 'string' ? [wanted] : entryPrograms(spec);
    for (const n of names) {
      const ps = spec.programs.get(n);
      if (ps === undefined) throw new UsageError(`the object has no program ${n} (it has: ${[...spec.programs.keys()].join(', ') || 'none'})`);
      if (!['XDP', 'SCHED_CLS', 'SCHED_ACT', 'SOCKET_FILTER'].includes(ps.type)) throw new UsageError(`program ${n} is ${ps.type}, not a packet program (XDP, tc or socket filter)`);
    }
    if (names.length === 0) throw new UsageError(`${path} has no packet programs to run`);

    const printk: Array<{ prog: string; packet: number; text: string }> = [];
    let packetNo = 0;
    col = load(spec, backend === 'kernel'
      ? { backend }
      : { backend, engine, cpus, budget, printk: (text, prog) => { printk.push({ prog, packet: packetNo, text }); } });
    const loaded = col;
    const runners: Runner[] = names.map((n) => ({ prog: loaded.program(n), actions: new Map(), runs: 0, ns: 0n, insns: backend === 'vm' ? 0 : null }));
    // A consumer reads ring buffers (and, in the vm, perf buffers) as events arrive.
    const eventMaps = [...col.maps.values()].filter((m) => m.type === MapType.RINGBUF || (backend === 'vm' && m.type === MapType.PERF_EVENT_ARRAY));
    const events = new Map<string, Uint8Array[]>();
    const sent: Array<{ data: Uint8Array; tsNs: bigint }> = [];
    const outPath = p.flags.get('--out');
    const wantOut = typeof outPath === 'string';
    // Find out now, not after every frame ran, that the output cannot be written.
    const writeOut = (bytes: Uint8Array): void => {
      try {
        writeFileSync(outPath as string, bytes);
      } catch (e) {
        throw new InputError(outPath as string, `cannot write: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    if (wantOut) writeOut(new Uint8Array(0));
    const skipped = new Map<string, { count: number; first: number; why: string }>();
    const total = capture.packets.length;
    const progress = total >= 10_000 && process.stderr.isTTY === true;
    for (const [k, pkt] of capture.packets.entries()) {
      packetNo = k;
      const cpu = backend === 'vm' ? k % cpus : 0;
      for (const r of runners) {
        const t0 = process.hrtime.bigint();
        let out: TestRunOutput;
        // With --out, an XDP run gets a ctx so that ctx out says where the packet starts after any metadata.
        const ctxIn = wantOut && r.prog.type === 'XDP' ? xdpCtx(pkt.data.length) : undefined;
        try {
          out = r.prog.testRun(ctxIn ? { data: pkt.data, ctxIn, cpu } : { data: pkt.data, cpu });
        } catch (e) {
          if (refusedFrame(e)) {
            const s = skipped.get(r.prog.name) ?? { count: 0, first: k, why: (e as Error).message };
            s.count++;
            skipped.set(r.prog.name, s);
            continue;
          }
          if (e instanceof VmFault) {
            const why = `program ${r.prog.name} faulted on packet ${k}: ${e.message}`;
            if (json) process.stdout.write(JSON.stringify({ ...errorJson(e), program: r.prog.name, packet: k }) + '\n');
            else process.stderr.write(`tsbpf: error [${e.code}]: ${why}\n`);
            return EXIT_FAULT;
          }
          throw e;
        }
        r.ns += process.hrtime.bigint() - t0;
        r.runs++;
        if (r.insns !== null) r.insns += out.insns ?? 0;
        const action = actionName(r.prog.type, out.retval);
        r.actions.set(action, (r.actions.get(action) ?? 0) + 1);
        if (ctxIn && out.ctxOut && (out.retval === XdpAction.TX || out.retval === XdpAction.REDIRECT)) {
          sent.push({ data: out.dataOut.subarray(new DataView(out.ctxOut.buffer, out.ctxOut.byteOffset).getUint32(0, true)), tsNs: pkt.tsNs });
        }
      }
      for (const m of eventMaps) {
        const got = m.events();
        if (got.length > 0) events.set(m.name, [...(events.get(m.name) ?? []), ...got]);
      }
      if (progress && k % 1000 === 0) process.stderr.write(`\r${k}/${total} packets (${Math.floor((100 * k) / total)}%)`);
    }
    if (progress) process.stderr.write(`\r${total}/${total} packets (100%)\n`);

    if (wantOut) writeOut(writePcap(sent));
    for (const [prog, s] of skipped) {
      process.stderr.write(`tsbpf: warning: ${prog} skipped ${s.count} frame${s.count > 1 ? 's' : ''} its program type cannot take (first: packet ${s.first}: ${s.why})\n`);
    }

    const maps: Record<string, MapEntryJson[]> = {};
    for (const [name, m] of col.maps) {
      // The kernel backend has no perf buffer reader yet: a perf event array shows no events there.
      maps[name] = m.type === MapType.PERF_EVENT_ARRAY && backend === 'kernel' ? [] : collectionMapEntries(m, spec.maps.get(name)!, spec.btf, events.get(name) ?? []);
    }
    if (backend === 'kernel' && json) process.stderr.write('tsbpf: note: with --backend kernel, bpf_printk output goes to the kernel trace buffer and is not captured\n');
    if (json) {
      const programs: Record<string, { runs: number; actions: Record<string, number> }> = {};
      for (const r of runners) programs[r.prog.name] = { runs: r.runs, actions: Object.fromEntries(r.actions) };
      process.stdout.write(JSON.stringify({ programs, maps, printk }) + '\n');
      return EXIT_OK;
    }
    const w = (s: string): void => { process.stdout.write(s + '\n'); };
    w(backend === 'kernel'
      ? `${total} packets from ${pcapPath}, kernel backend (BPF_PROG_TEST_RUN)`
      : `${total} packets from ${pcapPath}, engine ${engine}, ${cpus} virtual CPU${cpus > 1 ? 's' : ''}`);
    for (const r of runners) {
      const acts = [...r.actions].map(([a, n]) => `${a} ${n}`).join(', ');
      const ns = r.runs ? Number(r.ns) / r.runs : 0;
      const insns = r.insns === null ? '' : `${r.runs ? Math.round(r.insns / r.runs) : 0} insns/run, `;
      w(`program ${r.prog.name} (${r.prog.type}): ${r.runs} runs, ${acts}; ${insns}${Math.round(ns)} ns/run`);
    }
    for (const [name, m] of col.maps) for (const line of mapText(name, mapTypeName(m.type), maps[name]!)) w(line);
    if (printk.length > 0) {
      w(`printk (${printk.length}):`);
      for (const l of printk) w(`  [${l.prog} #${l.packet}] ${l.text}`);
    } else if (backend === 'kernel') {
      w('printk: not captured with --backend kernel (the kernel writes it to /sys/kernel/tracing/trace)');
    }
    return EXIT_OK;
  } catch (e) {
    return reportError(e, json);
  } finally {
    try {
      col?.close();
    } catch {
      // what the run printed matters more
    }
  }
}
