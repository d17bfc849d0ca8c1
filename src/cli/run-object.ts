/**
 * `tsbpf run OBJ.o --pcap IN.pcap`: every packet program of an object runs on
 * every frame of a capture in the vm, each on the original frame; then the
 * action counts, run statistics, map contents and printk lines.
 */
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { loadObject, mapTypeName, type ObjectSpec } from '../object/index.js';
import { readCapture, writePcap, LINKTYPE_ETHERNET } from '../pcap/index.js';
import { loadVm, VmFault, type VmCollection, type VmProgram, type Engine, ENGINES } from '../vm/index.js';
import { SocketFilterHook, TcHook, XdpHook, type RunFn } from '../vm/hooks/index.js';
import { intFlag, parseArgs, UsageError } from './args.js';
import { readInput } from './input.js';
import { objectName } from './inspect.js';
import { drainEvents, mapEntries, mapText, type MapEntryJson } from './map-dump.js';
import { EXIT_FAULT, EXIT_OK, reportError, errorJson } from './report.js';

export const RUN_OBJECT_USAGE = `usage: tsbpf run OBJ.o --pcap IN.pcap [--prog NAME] [--out OUT.pcap] [--json]
                  [--engine jit|interp] [--cpus N] [--budget N]

Loads a BPF object into the vm and runs its packet programs (XDP, tc,
socket filter) on every frame of IN.pcap (pcap or pcapng, Ethernet), or only
--prog NAME. Each program sees the original frame; maps are shared. Programs
an object puts in a prog_array only run as tail-call targets. Frames are
spread over --cpus virtual CPUs (default 1) in turn. --out writes the frames
XDP programs sent (XDP_TX, XDP_REDIRECT) as pcap.

--json prints one object:
  {"programs": {NAME: {"runs": N, "actions": {ACTION: N}}},
   "maps": {NAME: [ENTRY]}, "printk": [{"prog", "packet", "text"}]}`;

interface Runner {
  readonly prog: VmProgram;
  readonly run: (frame: Uint8Array, cpu: number) => string;
  readonly actions: Map<string, number>;
  /** Instructions executed over all runs (tail calls included). */
  readonly stats: { insns: number };
  runs: number;
  ns: bigint;
}

const VALUED = ['--pcap', '--prog', '--out', '--engine', '--cpus', '--budget', '--mem', '--repeat', '--syntax'];

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

/** The programs `run` starts: packet programs that are not only tail-call targets. */
export function entryPrograms(spec: ObjectSpec): string[] {
  const targets = new Set<string>();
  for (const m of spec.maps.values()) for (const e of m.init) if (!(e.value instanceof Uint8Array) && 'program' in e.value) targets.add(e.value.program);
  return [...spec.programs.values()]
    .filter((p) => ['XDP', 'SCHED_CLS', 'SCHED_ACT', 'SOCKET_FILTER'].includes(p.type) && !targets.has(p.name))
    .map((p) => p.name);
}

function runnerFor(col: VmCollection, prog: VmProgram, printk: Array<{ prog: string; packet: number; text: string }>, packetNo: () => number, sent: XdpHook[]): Runner {
  const stats = { insns: 0 };
  const runFn = (cpu: number): RunFn => (args, host, packet) => {
    const r = prog.run(args, { ...col.host(prog.name, cpu), ...host, printk: (text: string) => printk.push({ prog: prog.name, packet: packetNo(), text }) }, packet ?? null);
    stats.insns += r.insns;
    return r.r0;
  };
  const runner = (run: Runner['run']): Runner => ({ prog, run, actions: new Map(), stats, runs: 0, ns: 0n });
  const type = prog.spec.type;
  if (type === 'XDP') {
    const hook = new XdpHook(col.space);
    sent.push(hook);
    return runner((frame, cpu) => hook.run(frame, runFn(cpu), { cpu }).actionName);
  }
  if (type === 'SOCKET_FILTER') {
    const hook = new SocketFilterHook(col.space);
    return runner((frame, cpu) => hook.run(frame, runFn(cpu), { cpu }).verdict);
  }
  const hook = new TcHook(col.space);
  return runner((frame, cpu) => hook.run(frame, runFn(cpu), { cpu }).actionName);
}

export async function cmdRunObject(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    const p = parseArgs(argv, ['--pcap', '--prog', '--out', '--engine', '--cpus', '--budget'], ['--json', '--help']);
    if (p.flags.has('--help')) { process.stdout.write(RUN_OBJECT_USAGE + '\n'); return EXIT_OK; }
    if (p.positionals.length !== 1) throw new UsageError(`run takes one object file\n${RUN_OBJECT_USAGE}`);
    const pcapPath = p.flags.get('--pcap');
    if (typeof pcapPath !== 'string') throw new UsageError(`running an object needs --pcap IN.pcap\n${RUN_OBJECT_USAGE}`);
    const engine = (p.flags.get('--engine') ?? 'jit') as Engine;
    if (!(ENGINES as readonly string[]).includes(engine)) throw new UsageError(`unknown engine ${engine} (available: ${ENGINES.join(', ')})`);
    const cpus = intFlag(p, '--cpus', 1);
    const budget = intFlag(p, '--budget', 10_000_000);
    const path = p.positionals[0]!;
    const spec = loadObject(readInput(path), objectName(path));
    const capture = readCapture(readInput(pcapPath));
    if (capture.linkType !== LINKTYPE_ETHERNET) throw new UsageError(`${pcapPath}: link type ${capture.linkType} is not Ethernet (1)`);

    const wanted = p.flags.get('--prog');
    const names = typeof wanted === 'string' ? [wanted] : entryPrograms(spec);
    for (const n of names) {
      const ps = spec.programs.get(n);
      if (ps === undefined) throw new UsageError(`the object has no program ${n} (it has: ${[...spec.programs.keys()].join(', ') || 'none'})`);
      if (!['XDP', 'SCHED_CLS', 'SCHED_ACT', 'SOCKET_FILTER'].includes(ps.type)) throw new UsageError(`program ${n} is ${ps.type}, not a packet program (XDP, tc or socket filter)`);
    }
    if (names.length === 0) throw new UsageError(`${path} has no packet programs to run`);

    const col = loadVm(spec, { engine, cpus, budget });
    const printk: Array<{ prog: string; packet: number; text: string }> = [];
    const events = new Map<string, Uint8Array[]>();
    let packetNo = 0;
    const xdpHooks: XdpHook[] = [];
    const runners = names.map((n) => runnerFor(col, col.programs.get(n)!, printk, () => packetNo, xdpHooks));
    const total = capture.packets.length;
    const progress = total >= 10_000 && process.stderr.isTTY === true;
    for (const [k, pkt] of capture.packets.entries()) {
      packetNo = k;
      const cpu = k % cpus;
      for (const r of runners) {
        const t0 = process.hrtime.bigint();
        let action: string;
        try {
          action = r.run(pkt.data, cpu);
        } catch (e) {
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
        r.actions.set(action, (r.actions.get(action) ?? 0) + 1);
      }
      // A consumer reads ring buffers and perf buffers as events arrive.
      for (const [name, m] of col.maps) {
        const got = drainEvents(m);
        if (got !== null && got.length > 0) events.set(name, [...(events.get(name) ?? []), ...got]);
      }
      if (progress && k % 1000 === 0) process.stderr.write(`\r${k}/${total} packets (${Math.floor((100 * k) / total)}%)`);
    }
    if (progress) process.stderr.write(`\r${total}/${total} packets (100%)\n`);

    const out = p.flags.get('--out');
    if (typeof out === 'string') {
      const frames = xdpHooks.flatMap((h) => h.takeTransmitted());
      writeFileSync(out, writePcap(frames.map((f) => ({ data: f.packet, tsNs: f.tsNs }))));
    }

    const maps: Record<string, MapEntryJson[]> = {};
    for (const [name, m] of col.maps) maps[name] = mapEntries(m, spec.maps.get(name)!, spec.btf, events.get(name) ?? []);
    if (json) {
      const programs: Record<string, { runs: number; actions: Record<string, number> }> = {};
      for (const r of runners) programs[r.prog.name] = { runs: r.runs, actions: Object.fromEntries(r.actions) };
      process.stdout.write(JSON.stringify({ programs, maps, printk }) + '\n');
      return EXIT_OK;
    }
    const w = (s: string): void => { process.stdout.write(s + '\n'); };
    w(`${total} packets from ${pcapPath}, engine ${engine}, ${cpus} virtual CPU${cpus > 1 ? 's' : ''}`);
    for (const r of runners) {
      const acts = [...r.actions].map(([a, n]) => `${a} ${n}`).join(', ');
      const ns = r.runs ? Number(r.ns) / r.runs : 0;
      w(`program ${r.prog.name} (${r.prog.spec.type}): ${r.runs} runs, ${acts}; ${r.runs ? Math.round(r.stats.insns / r.runs) : 0} insns/run, ${Math.round(ns)} ns/run`);
    }
    for (const [name, m] of col.maps) for (const line of mapText(name, mapTypeName(m.type), maps[name]!)) w(line);
    if (printk.length > 0) {
      w(`printk (${printk.length}):`);
      for (const l of printk) w(`  [${l.prog} #${l.packet}] ${l.text}`);
    }
    return EXIT_OK;
  } catch (e) {
    return reportError(e, json);
  }
}
