// Attaching tracing programs in the real kernel: tracepoint, raw_tp, tp_btf,
// uprobe/uretprobe (in a binary the test builds, and in Node itself), iter,
// perf_event and kprobe (which this kernel cannot do), plus autoAttach and an
// fd-leak check. The programs are testdata/attach-trace/trace.c; the traced
// process is a small C program compiled here with gcc.
import assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, test, type TestContext } from 'node:test';
import { assemble } from '../src/asm/index.js';
import { TsbpfError } from '../src/errors.js';
import {
  AttachError,
  KernelError,
  KprobeUnavailableError,
  type KernelCollection,
  type Link,
  type Tracefs,
  attachBySection,
  attachIter,
  attachKprobe,
  attachPerfEvent,
  attachRawTracepoint,
  attachTracepoint,
  attachTracing,
  attachUprobe,
  autoAttach,
  encodePerfEventAttr,
  loadCollection,
  openIter,
  pmuType,
  progLoad,
  resolveUprobe,
  tracefs,
  tracefsMounts,
} from '../src/kernel/index.js';
import { AttachType, ProgType } from '../src/object/kinds.js';
import { loadObject } from '../src/object/index.js';
import type { ObjectSpec } from '../src/object/spec.js';
import { u32 } from './support/bytes.js';
import { needKernel, openFds } from './support/kernel.js';

const DIR = fileURLToPath(new URL('../../testdata/attach-trace/', import.meta.url));
const C = { TRACEPOINT: 0, RAW_TP: 1, TP_BTF: 2, UPROBE: 3, UPROBE_ARGS: 4, URETPROBE: 5, URET_VALUES: 6, PERF_EVENT: 7, KPROBE: 8 } as const;

// The traced process: waits for a line on stdin, then calls getppid N times
// and tsbpf_target(i) for i < N, prints the sum of the results and exits.
const TARGET_C = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
__attribute__((noinline)) int tsbpf_target(int x) { __asm__ volatile("" ::: "memory"); return 3 * x + 1; }
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  char line[16];
  long sum = 0;
  if (!fgets(line, sizeof line, stdin)) return 1;
  for (int i = 0; i < n; i++) syscall(SYS_getppid);
  for (int i = 0; i < n; i++) sum += tsbpf_target(i);
  printf("%ld\\n", sum);
  return 0;
}
`;

let work: string | null = null;
let targetBin: string | null = null;
let targetProblem = '';
let tfs: Tracefs | null = null;
let tfsProblem = '';
const notices: string[] = [];

/** Null when the process sees the root pid namespace (bpf_get_current_pid_tgid gives its pids), else why not. */
function pidNamespaceProblem(): string | null {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('NSpid:'));
  return line && line.trim().split(/\s+/).length > 2 ? 'this process is in a nested pid namespace, where the kernel\'s tgid differs from child.pid' : null;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'tsbpf-attach-'));
  writeFileSync(join(work, 'target.c'), TARGET_C);
  const cc = spawnSync('gcc', ['-O1', '-o', join(work, 'target'), join(work, 'target.c')], { encoding: 'utf8', timeout: 20000 });
  if (cc.status === 0) targetBin = join(work, 'target');
  else targetProblem = `gcc could not build the traced program: ${cc.error?.message ?? cc.stderr}`;
  // A private tracefs mount, so other tests mounting or unmounting the shared one cannot disturb this file.
  if (process.platform === 'linux' && process.getuid?.() === 0) {
    try {
      mkdirSync(join(work, 'tracefs'));
      tfs = tracefs({ mountPoint: join(work, 'tracefs'), onNotice: (n) => notices.push(n) });
    } catch (e) {
      tfsProblem = `tracefs cannot be mounted: ${(e as Error).message}`;
    }
  } else {
    tfsProblem = 'mounting tracefs needs root';
  }
});

after(() => {
  try {
    tfs?.release();
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
});

function need(t: TestContext, what: { target?: boolean; tracefs?: boolean; pids?: boolean } = {}): boolean {
  if (!needKernel(t)) return false;
  if (what.target && !targetBin) return skip(t, targetProblem);
  if (what.tracefs && !tfs) return skip(t, tfsProblem);
  const ns = what.pids ? pidNamespaceProblem() : null;
  if (ns) return skip(t, ns);
  return true;
}
function skip(t: TestContext, reason: string): false {
  t.skip(reason);
  return false;
}

/** trace.o with `target_tgid` set to `tgid`, loaded with only `programs`. */
function loadTrace(tgid: number, programs: string[]): { spec: ObjectSpec; coll: KernelCollection } {
  const spec = loadObject(new Uint8Array(readFileSync(join(DIR, 'trace.o'))), 'trace');
  const ro = [...spec.maps.values()].find((m) => m.section === '.rodata');
  const v = ro?.variables.find((x) => x.name === 'target_tgid');
  assert.ok(ro?.data && v, 'trace.o has .rodata target_tgid');
  new DataView(ro.data.buffer, ro.data.byteOffset).setUint32(v.offset, tgid, true);
  return { spec, coll: loadCollection(spec, { programs }) };
}

const counter = (coll: KernelCollection, slot: number): bigint => {
  const v = coll.map('counters').lookup(u32(slot));
  assert.ok(v);
  return new DataView(v.buffer, v.byteOffset).getBigUint64(0, true);
};

interface Target {
  pid: number;
  /** Lets it run; resolves with what it printed once it has exited. */
  run(): Promise<string>;
  /** Kills it if it is still there (cleanup after a failure). */
  kill(): void;
}

const children = new Set<{ kill(): void }>();
after(() => {
  for (const c of children) c.kill();
});

function spawnTarget(n: number): Target {
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(targetBin!, [String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(handle);
      if (code === 0) resolve(out);
      else reject(new Error(`the traced program exited with ${code ?? signal}`));
    });
  });
  exited.catch(() => {}); // reported through run(); a child never run is only killed
  const handle = { kill: () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL') };
  children.add(handle);
  assert.ok(child.pid !== undefined, 'the traced program started');
  return {
    pid: child.pid,
    run: () => {
      timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      child.stdin.end('go\n');
      return exited;
    },
    kill: handle.kill,
  };
}

const N = 137;
const sumArgs = BigInt((N * (N - 1)) / 2);
const sumRets = BigInt(3 * ((N * (N - 1)) / 2) + N);

test('tracepoint syscalls/sys_enter_getppid counts exactly the getppid calls of a child', async (t) => {
  if (!need(t, { target: true, tracefs: true, pids: true })) return;
  const child = spawnTarget(N);
  const { spec, coll } = loadTrace(child.pid, ['count_getppid']);
  try {
    const link = attachTracepoint(coll.program('count_getppid'), 'syscalls', 'sys_enter_getppid', { tracefs: tfs! });
    try {
      assert.equal(link.kind, 'tracepoint');
      assert.equal(link.info().typeName, 'PERF_EVENT', 'attached through a perf bpf_link');
      assert.equal(counter(coll, C.TRACEPOINT), 0n);
      assert.equal(await child.run(), `${sumRets}\n`);
      assert.equal(counter(coll, C.TRACEPOINT), BigInt(N));
    } finally {
      link.close();
    }
    // The section name says the same: tracepoint/syscalls/sys_enter_getppid.
    const auto = autoAttach(coll, 'count_getppid', { spec, tracefs: tfs! });
    try {
      assert.equal(auto.kind, 'tracepoint');
      assert.equal(auto.info().typeName, 'PERF_EVENT');
    } finally {
      auto.close();
    }
  } finally {
    coll.close();
  }
});

test('raw_tp/sys_enter and tp_btf/sys_enter see the same getppid calls (explicit and auto attach)', async (t) => {
  if (!need(t, { target: true, pids: true })) return;
  // target_tgid is read-only, fixed at load: one child and one load per way of attaching.
  const ways: Array<[string, (coll: KernelCollection, spec: ObjectSpec) => Link[]]> = [
    ['explicit', (coll) => [attachRawTracepoint(coll.program('raw_sys_enter'), 'sys_enter'), attachTracing(coll.program('btf_sys_enter'))]],
    // By section: raw_tp through BPF_RAW_TRACEPOINT_OPEN, tp_btf through BPF_LINK_CREATE.
    ['auto', (coll, spec) => [autoAttach(coll, 'raw_sys_enter', { spec }), autoAttach(coll, 'btf_sys_enter', { spec })]],
  ];
  for (const [way, attach] of ways) {
    const child = spawnTarget(N);
    const { spec, coll } = loadTrace(child.pid, ['raw_sys_enter', 'btf_sys_enter']);
    const links: Link[] = [];
    try {
      links.push(...attach(coll, spec));
      for (const l of links) assert.equal(l.info().typeName, 'RAW_TRACEPOINT', `${way}: ${l.kind}`);
      await child.run();
      assert.equal(counter(coll, C.RAW_TP), BigInt(N), `${way}: raw_tp`);
      assert.equal(counter(coll, C.TP_BTF), BigInt(N), `${way}: tp_btf`);
    } finally {
      for (const l of links) l.close();
      coll.close();
    }
  }
});

test('uprobe counts calls of a function in a binary built by the test; uretprobe sees its return values', async (t) => {
  if (!need(t, { target: true, pids: true })) return;
  const child = spawnTarget(N);
  const { spec, coll } = loadTrace(child.pid, ['on_target', 'on_target_ret']);
  try {
    const target = resolveUprobe(targetBin!, 'tsbpf_target');
    assert.ok(target.offset > 0n && target.size > 0n);
    const entry = attachUprobe(coll.program('on_target'), targetBin!, 'tsbpf_target');
    // The uretprobe through auto-attach, as if the section were uretprobe/BINARY:tsbpf_target.
    const p = spec.programs.get('on_target_ret')!;
    const ret = attachBySection(coll.program('on_target_ret'), { ...p, section: `uretprobe/${targetBin}:tsbpf_target`, attachTo: `${targetBin}:tsbpf_target` }, { pid: child.pid });
    try {
      assert.equal(entry.kind, 'uprobe');
      assert.equal(ret.kind, 'uretprobe');
      assert.equal(await child.run(), `${sumRets}\n`);
      assert.equal(counter(coll, C.UPROBE), BigInt(N));
      assert.equal(counter(coll, C.UPROBE_ARGS), sumArgs);
      assert.equal(counter(coll, C.URETPROBE), BigInt(N));
      assert.equal(counter(coll, C.URET_VALUES), sumRets);
    } finally {
      entry.close();
      ret.close();
    }
  } finally {
    coll.close();
  }
});

test('uprobe on a function of Node itself (uv_hrtime), in this process', (t) => {
  if (!need(t, { pids: true })) return;
  let target;
  try {
    target = resolveUprobe(process.execPath, 'uv_hrtime');
  } catch (e) {
    if (e instanceof AttachError && e.code === 'ENOSYMBOL') {
      skip(t, `this node binary does not export uv_hrtime: ${e.message}`);
      return;
    }
    throw e;
  }
  // Node is usually not position-independent, so the file offset differs
  // from the address: the probe firing shows the offset is right.
  assert.ok(target.size > 0n);
  const { coll } = loadTrace(process.pid, ['on_target']);
  try {
    const link = attachUprobe(coll.program('on_target'), process.execPath, 'uv_hrtime', { pid: process.pid });
    try {
      for (let i = 0; i < 50; i++) process.hrtime.bigint();
      assert.ok(counter(coll, C.UPROBE) >= 50n, `uv_hrtime hit ${counter(coll, C.UPROBE)} times`);
    } finally {
      link.close();
    }
    const before = counter(coll, C.UPROBE);
    for (let i = 0; i < 20; i++) process.hrtime.bigint();
    assert.equal(counter(coll, C.UPROBE), before, 'nothing counts once the link is closed');
  } finally {
    coll.close();
  }
});

test('iter/task output is readable (sync, async, stream) and lists this process', async (t) => {
  if (!need(t, { pids: true })) return;
  const { spec, coll } = loadTrace(0, ['dump_task']);
  try {
    const link = attachIter(coll.program('dump_task'));
    try {
      assert.equal(link.info().typeName, 'ITER');
      const text = openIter(link).text();
      assert.match(text, new RegExp(`^${process.pid} \\S+$`, 'm'), 'a line for this process');
      assert.ok(text.split('\n').length > 10, 'a line per process');
      const chunks: Uint8Array[] = [];
      for await (const c of openIter(link)) chunks.push(c);
      const asyncText = Buffer.concat(chunks).toString();
      assert.match(asyncText, new RegExp(`^${process.pid} `, 'm'));
      let streamed = '';
      for await (const c of openIter(link).stream()) streamed += (c as Buffer).toString();
      assert.match(streamed, new RegExp(`^${process.pid} `, 'm'));
    } finally {
      link.close();
    }
    const auto = autoAttach(coll, 'dump_task', { spec });
    try {
      assert.match(openIter(auto).text(), new RegExp(`^${process.pid} `, 'm'));
    } finally {
      auto.close();
    }
  } finally {
    coll.close();
  }
});

test('perf_event cpu-clock fires within a short busy loop', (t) => {
  if (!need(t)) return;
  const { coll } = loadTrace(0, ['on_cpu_clock']);
  try {
    const link = attachPerfEvent(coll.program('on_cpu_clock'), { type: 'cpu-clock', frequency: 1000 });
    try {
      const end = Date.now() + 2000;
      let x = 0;
      while (counter(coll, C.PERF_EVENT) === 0n && Date.now() < end) for (let i = 0; i < 100000; i++) x += i;
      assert.ok(counter(coll, C.PERF_EVENT) > 0n, `no sample in 2 s (${x})`);
    } finally {
      link.close();
    }
  } finally {
    coll.close();
  }
  assert.throws(() => attachPerfEvent(0, { type: 'cpu-cycles' as 'cpu-clock' }), (e: unknown) => e instanceof AttachError && e.code === 'EATTACHARG');
});

test('kprobe: a clear typed error when the kernel has no kprobe PMU', (t) => {
  // Unit level, whatever the kernel: no PMU directory → KprobeUnavailableError before any syscall.
  const err = (() => {
    try {
      attachKprobe(-1, 'do_nanosleep', { eventSources: '/nonexistent/event_source' });
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.ok(err instanceof KprobeUnavailableError && err instanceof AttachError && err instanceof TsbpfError);
  assert.equal(err.code, 'ENOKPROBE');
  assert.equal(
    err.message,
    'kprobes are unavailable on this kernel: there is no kprobe PMU (/nonexistent/event_source/kprobe is missing; the kernel is built ' +
      'without CONFIG_KPROBES), so "do_nanosleep" cannot be probed. Use a tracepoint, raw_tp, tp_btf or a uprobe instead',
  );
  assert.deepEqual(err.where, { function: 'do_nanosleep', pmu: '/nonexistent/event_source/kprobe' });
  if (!need(t)) return;
  // On this kernel: the program type loads, attaching (explicit or auto) does not.
  const { spec, coll } = loadTrace(0, ['on_nanosleep']);
  try {
    if (pmuType('kprobe') !== null) {
      const link = attachKprobe(coll.program('on_nanosleep'), 'do_nanosleep');
      link.close();
      skip(t, 'this kernel has a kprobe PMU: the attach worked, the unavailable path is covered above');
      return;
    }
    assert.throws(() => attachKprobe(coll.program('on_nanosleep'), 'do_nanosleep'), (e: unknown) => e instanceof KprobeUnavailableError && /CONFIG_KPROBES/.test(e.message));
    assert.throws(() => autoAttach(coll, 'on_nanosleep', { spec }), (e: unknown) => e instanceof KprobeUnavailableError);
  } finally {
    coll.close();
  }
});

test('typed errors: unknown tracepoint, missing symbol, sections without a target', (t) => {
  if (!need(t, { target: true, tracefs: true })) return;
  const { spec, coll } = loadTrace(0, ['count_getppid', 'on_target', 'on_cpu_clock']);
  try {
    const prog = coll.program('count_getppid');
    assert.throws(() => attachTracepoint(prog, 'syscalls', 'sys_enter_nope', { tracefs: tfs! }), (e: unknown) => e instanceof AttachError && e.code === 'ENOTRACEPOINT' && /no event "sys_enter_nope"/.test(e.message));
    assert.throws(() => attachTracepoint(prog, 'nope', 'x', { tracefs: tfs! }), (e: unknown) => e instanceof AttachError && /no event category "nope"/.test(e.message));
    assert.throws(() => attachTracepoint(prog, '..', 'x', { tracefs: tfs! }), (e: unknown) => e instanceof AttachError && e.code === 'EATTACHARG');
    assert.throws(() => attachUprobe(coll.program('on_target'), targetBin!, 'no_such_function'), (e: unknown) => e instanceof AttachError && e.code === 'ENOSYMBOL');
    assert.throws(() => resolveUprobe(join(DIR, 'trace.c'), 'x'), (e: unknown) => e instanceof AttachError && e.code === 'EUPROBEBINARY');
    assert.throws(() => autoAttach(coll, 'on_target', { spec }), (e: unknown) => e instanceof AttachError && e.code === 'ENOAUTOATTACH' && /PATH:FUNCTION/.test(e.message));
    assert.throws(() => autoAttach(coll, 'on_cpu_clock', { spec }), (e: unknown) => e instanceof AttachError && /attachPerfEvent/.test(e.message));
    assert.throws(() => autoAttach(coll, 'count_getppid'), (e: unknown) => e instanceof AttachError && /needs the ObjectSpec/.test(e.message));
    // The kernel refuses a program of the wrong type for the event (and the event fd is closed).
    assert.throws(() => attachTracepoint(coll.program('on_cpu_clock'), 'syscalls', 'sys_enter_getppid', { tracefs: tfs! }), (e: unknown) => e instanceof KernelError && e.errnoName === 'EINVAL');
    // A raw tracepoint that does not exist is the kernel's ENOENT.
    assert.throws(() => attachRawTracepoint(prog, 'no_such_tracepoint'), (e: unknown) => e instanceof KernelError);
  } finally {
    coll.close();
  }
});

test('tracefs: mounted where asked, reported, found again, and released only by its mounter', (t) => {
  if (!need(t, { tracefs: true })) return;
  assert.ok(tfs!.mountedHere);
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /mounted tracefs at .*tsbpf-attach-/);
  assert.ok(tracefsMounts().includes(tfs!.path));
  const again = tracefs({ mountPoint: tfs!.path });
  assert.equal(again.mountedHere, false, 'an existing mount is used, not mounted again');
  again.release(); // does nothing: this handle did not mount it
  assert.ok(tracefsMounts().includes(tfs!.path));
  assert.ok(tfs!.tracepointId('syscalls', 'sys_enter_getppid') > 0);
  // Without a mount point, an existing tracefs (at least this file's) is found, not mounted.
  const found = tracefs({ mount: false });
  assert.equal(found.mountedHere, false);
  assert.equal(found.tracepointId('syscalls', 'sys_enter_getppid'), tfs!.tracepointId('syscalls', 'sys_enter_getppid'));
  assert.equal(notices.length, 1, 'nothing more was mounted');
});

test('perf_event_attr encoding', () => {
  const a = encodePerfEventAttr({ type: 1, config: 0, sampleFreq: 99, disabled: true, config1: 5n, config2: 7n });
  const v = new DataView(a.buffer);
  assert.equal(v.getUint32(0, true), 1);
  assert.equal(v.getUint32(4, true), a.byteLength);
  assert.equal(v.getBigUint64(16, true), 99n);
  assert.equal(v.getBigUint64(40, true), (1n << 10n) | 1n, 'freq and disabled bits');
  assert.equal(v.getBigUint64(56, true), 5n);
  assert.equal(v.getBigUint64(64, true), 7n);
});

test('no fd leaks over 200 attach/close cycles of every kind', (t) => {
  if (!need(t, { target: true, tracefs: true })) return;
  const tp = progLoad({ type: ProgType.TRACEPOINT, insns: assemble('r0 = 0\nexit'), name: 'leak_tp' });
  const raw = progLoad({ type: ProgType.RAW_TRACEPOINT, insns: assemble('r0 = 0\nexit'), name: 'leak_raw' });
  const kp = progLoad({ type: ProgType.KPROBE, insns: assemble('r0 = 0\nexit'), name: 'leak_kp' });
  const pe = progLoad({ type: ProgType.PERF_EVENT, insns: assemble('r0 = 0\nexit'), name: 'leak_pe' });
  const { coll } = loadTrace(0, ['dump_task', 'btf_sys_enter']);
  try {
    // Detaching tracepoints and probes waits for an RCU grace period (tens of
    // ms each), so those kinds run every 20th cycle; the rest run every cycle.
    const cycle = (i: number): void => {
      attachPerfEvent(pe, { type: 'cpu-clock', frequency: 10 }).close();
      const it = attachIter(coll.program('dump_task'));
      openIter(it).readAll();
      openIter(it).close();
      it.close();
      assert.throws(() => attachTracepoint(tp, 'syscalls', 'sys_enter_nope', { tracefs: tfs! }), AttachError);
      assert.throws(() => attachUprobe(kp, targetBin!, 'no_such_function'), AttachError);
      assert.throws(() => attachTracing(tp), KernelError); // not a tracing program
      if (i % 20 !== 0) return;
      attachTracepoint(tp, 'syscalls', 'sys_enter_getppid', { tracefs: tfs! }).close();
      attachRawTracepoint(raw, 'sys_enter').close();
      attachTracing(coll.program('btf_sys_enter'), { attachType: AttachType.TRACE_RAW_TP }).close();
      attachUprobe(kp, targetBin!, 'tsbpf_target', { retprobe: i % 40 === 0 }).close();
    };
    cycle(0); // warm up lazily created fds (libc, caches)
    const fds = openFds();
    for (let i = 0; i < 200; i++) cycle(i);
    assert.equal(openFds(), fds);
  } finally {
    for (const p of [tp, raw, kp, pe]) p.close();
    coll.close();
  }
});

test('testdata/attach-trace/build.sh rebuilds trace.o byte for byte (when clang-19 is installed)', (t) => {
  if (spawnSync('clang-19', ['--version']).status !== 0) {
    t.skip('clang-19 is not installed');
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'tsbpf-attach-build-'));
  try {
    const r = spawnSync('bash', [join(DIR, 'build.sh'), out], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(join(out, 'trace.o')).equals(readFileSync(join(DIR, 'trace.o'))), 'trace.o differs from its rebuild');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
