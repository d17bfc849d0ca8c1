// The vm's userspace hooks against the real kernel: the same programs (the C
// objects in testdata/hooks and small assembly probes of every ctx field) run
// through BPF_PROG_TEST_RUN and through the XDP, tc and socket filter hooks on
// the same frames must return the same value and leave the same bytes. Then
// what only the vm has: captures, redirect targets, tracepoints, uprobes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../src/asm/index.js';
import { Btf } from '../src/btf/index.js';
import { readPcap } from '../src/pcap/index.js';
import { AddressSpace, ENGINES, Vm, VmFault, stackFrames } from '../src/vm/index.js';
import { commonHelpers } from '../src/vm/helpers/index.js';
import {
  HookError, SKB_MAX_FRAME, SocketFilterHook, TcHook, Tracepoints, UprobeHook, XDP_MAX_FRAME, XdpHook, type RunFn,
} from '../src/vm/hooks/index.js';
import { KernelError, ProgType, progLoad, progTestRun, type LoadedProgram } from '../src/kernel/index.js';
import { HOOKS_DIR, Rng, SEED, concat, fixture, fixtureBtf, randomFrame, randomSkbCtx, runner, skbCtxIn, skbCtxOut } from './support/hooks.js';
import { hex } from './support/bytes.js';
import { needKernel } from './support/kernel.js';
import { needClang, rebuildElsewhere } from './support/rebuild.js';

/** Loads `code` into the kernel, runs `body`, closes it. */
function withProg<T>(type: number, code: Uint8Array | ReturnType<typeof assemble>, body: (p: LoadedProgram) => T): T {
  const p = progLoad({ type, insns: code });
  try {
    return body(p);
  } finally {
    p.close();
  }
}

const asm = (src: string): ReturnType<typeof assemble> => assemble(src);

// ---------------------------------------------------------------- XDP

const XDP_FIELDS: Record<string, string> = {
  'data_end - data': 'r2 = *(u32 *)(r1 + 0)\nr0 = *(u32 *)(r1 + 4)\nr0 -= r2\nexit',
  'data - data_meta': 'r2 = *(u32 *)(r1 + 8)\nr0 = *(u32 *)(r1 + 0)\nr0 -= r2\nexit',
  ingress_ifindex: 'r0 = *(u32 *)(r1 + 12)\nexit',
  rx_queue_index: 'r0 = *(u32 *)(r1 + 16)\nexit',
  'first word': 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 4\nr0 = 0\nif r4 > r3 goto +1\nr0 = *(u32 *)(r2 + 0)\nexit',
  'meta word': 'r2 = *(u32 *)(r1 + 8)\nr3 = *(u32 *)(r1 + 0)\nr4 = r2\nr4 += 4\nr0 = 7\nif r4 > r3 goto +1\nr0 = *(u32 *)(r2 + 0)\nexit',
};

/** The kernel's XDP test-run of `data` with `meta` in front (ctx given when there is meta). */
function kernelXdp(p: LoadedProgram, frame: Uint8Array, meta: Uint8Array): { retval: number; out: Uint8Array; ctx?: Uint8Array } {
  if (meta.length === 0) {
    const r = progTestRun(p, { data: frame, dataSizeOut: 8192 });
    return { retval: r.retval, out: r.dataOut };
  }
  const ctxIn = new Uint8Array(24);
  const v = new DataView(ctxIn.buffer);
  v.setUint32(0, meta.length, true);
  v.setUint32(4, meta.length + frame.length, true);
  const r = progTestRun(p, { data: concat(meta, frame), dataSizeOut: 8192, ctxIn, ctxOut: 24 });
  return { retval: r.retval, out: r.dataOut, ctx: r.ctxOut! };
}

test('xdp: every xdp_md field a program reads is the kernel\'s, with and without metadata', (t) => {
  if (!needKernel(t)) return;
  const rng = new Rng(SEED);
  const cases = Array.from({ length: 12 }, (_, k) => ({
    frame: randomFrame(rng, k === 0 ? 14 : rng.int(14, 400)),
    meta: rng.bytes(rng.pick([0, 0, 4, 8, 32, 216])),
  }));
  for (const [name, src] of Object.entries(XDP_FIELDS)) {
    withProg(ProgType.XDP, asm(src), (p) => {
      for (const engine of ENGINES) {
        const hook = new XdpHook(new AddressSpace());
        const run = runner(hook, asm(src), engine);
        for (const { frame, meta } of cases) {
          const k = kernelXdp(p, frame, meta);
          const v = hook.run(frame, run, { meta });
          assert.equal(v.action, k.retval, `${name} (${engine}) on ${frame.length} bytes + ${meta.length} of metadata`);
        }
      }
    });
  }
});

test('xdp: adjust_meta, adjust_head and adjust_tail move the frame exactly as the kernel does', (t) => {
  if (!needKernel(t)) return;
  const rng = new Rng(SEED ^ 0x1111);
  const code = fixture('xdp_adjust.o', 'xdp_adjust');
  withProg(ProgType.XDP, code, (p) => {
    const hooks = ENGINES.map((engine) => {
      const hook = new XdpHook(new AddressSpace());
      return { engine, hook, run: runner(hook, code, engine) };
    });
    let moved = 0;
    for (let i = 0; i < 400; i++) {
      const len = rng.chance(0.1) ? rng.int(3000, XDP_MAX_FRAME) : rng.int(14, 300);
      const frame = randomFrame(rng, len);
      const ctl = new DataView(frame.buffer);
      ctl.setInt16(0, rng.chance(0.7) ? -4 * rng.int(0, 9) : rng.chance(0.5) ? -4 * rng.int(0, 66) : rng.int(-260, 8), true);
      ctl.setInt16(2, rng.chance(0.8) ? rng.int(-230, 60) : rng.int(-300, 300), true);
      ctl.setInt16(4, rng.chance(0.8) ? rng.int(-len, 200) : rng.int(-4000, 4000), true);
      frame[6] = rng.int(0, 5);
      frame[7] = rng.int(0, 1);
      const meta = rng.chance(0.3) ? rng.bytes(4 * rng.int(0, rng.chance(0.8) ? 8 : 54)) : new Uint8Array(0);
      const k = kernelXdp(p, frame, meta);
      for (const { engine, hook, run } of hooks) {
        const v = hook.run(frame, run, { meta });
        const what = `frame ${i} (${engine}): ${hex(frame.subarray(0, 8))}, ${len} bytes, ${meta.length} of metadata`;
        assert.equal(v.action, k.retval, what);
        assert.equal(hex(concat(v.meta, v.packet)), hex(k.out), what);
        if (k.ctx) {
          const c = new DataView(k.ctx.buffer, k.ctx.byteOffset);
          assert.equal(c.getUint32(0, true), v.meta.length, `ctx_out.data, ${what}`);
          assert.equal(c.getUint32(4, true), v.meta.length + v.packet.length, `ctx_out.data_end, ${what}`);
        }
      }
      if (k.out.length !== len + meta.length) moved++;
    }
    assert.ok(moved > 100, `only ${moved} runs changed the frame's bounds`);
  });
});

test('xdp: xdp_load_bytes / xdp_store_bytes and XDP_TX match the kernel; sent frames are captured as pcap', (t) => {
  if (!needKernel(t)) return;
  const rng = new Rng(SEED ^ 0x2222);
  const code = fixture('xdp_bytes.o', 'xdp_bytes');
  withProg(ProgType.XDP, code, (p) => {
    const hook = new XdpHook(new AddressSpace(), { capture: 8 });
    const run = runner(hook, code, 'jit');
    for (let i = 0; i < 200; i++) {
      const len = rng.int(14, 200);
      const frame = randomFrame(rng, len);
      const ctl = new DataView(frame.buffer);
      if (len >= 16) {
        ctl.setUint32(0, rng.chance(0.9) ? rng.int(0, len + 4) : rng.pick([0x10000, 0xffff, 0xfffffff0]), true);
        ctl.setUint32(8, rng.chance(0.9) ? rng.int(0, len + 4) : rng.pick([0x10000, 0xffff]), true);
      }
      const k = kernelXdp(p, frame, new Uint8Array(0));
      const v = hook.run(frame, run, { tsNs: BigInt(i) * 1000n });
      assert.equal(v.action, k.retval, `frame ${i}`);
      assert.equal(hex(v.packet), hex(k.out), `frame ${i}`);
    }
    assert.equal(hook.transmitted.length, 8, 'the capture keeps the last 8 sent frames');
    const pcap = readPcap(hook.pcap());
    assert.equal(pcap.packets.length, 8);
    assert.deepEqual(pcap.packets.map((q) => hex(q.data)), hook.transmitted.map((q) => hex(q.packet)));
    assert.ok(hook.transmitted.every((q) => q.action === 'XDP_TX' && q.ifindex === 1));
    assert.equal(hook.takeTransmitted().length, 8);
    assert.equal(hook.transmitted.length, 0);
  });
});

test('xdp: bpf_redirect gives the kernel\'s verdicts; the hook records the target', (t) => {
  if (!needKernel(t)) return;
  for (const [ifindex, flags] of [[3, 0], [7, 1], [1, 0x10], [0, 0]] as const) {
    const src = `r1 = ${ifindex}\nr2 = ${flags}\ncall 23\nexit`;
    const frame = randomFrame(new Rng(5), 60);
    const k = withProg(ProgType.XDP, asm(src), (p) => kernelXdp(p, frame, new Uint8Array(0)));
    const hook = new XdpHook(new AddressSpace());
    const v = hook.run(frame, runner(hook, asm(src), 'interp'));
    assert.equal(v.action, k.retval, src);
    if (flags === 0) {
      assert.equal(v.actionName, 'XDP_REDIRECT');
      assert.deepEqual(v.redirect, { kind: 'ifindex', ifindex });
      assert.equal(hook.transmitted.length, 1);
    } else {
      assert.equal(v.actionName, 'XDP_ABORTED');
      assert.equal(v.redirect, undefined);
    }
  }
});

test('xdp: frame limits and metadata rules are the kernel\'s', (t) => {
  const hook = new XdpHook(new AddressSpace());
  const run = runner(hook, asm('r0 = 2\nexit'), 'interp');
  const code = (f: () => unknown): string => {
    try {
      f();
      return 'ok';
    } catch (e) {
      if (e instanceof HookError || e instanceof KernelError) return e instanceof HookError ? e.code : e.errnoName;
      throw e;
    }
  };
  const cases: Array<[Uint8Array, Uint8Array, string]> = [
    [new Uint8Array(13), new Uint8Array(0), 'EFRAME'],
    [new Uint8Array(14), new Uint8Array(0), 'ok'],
    [new Uint8Array(10), new Uint8Array(4), 'EFRAME'],
    [new Uint8Array(14), new Uint8Array(4), 'ok'],
    [new Uint8Array(XDP_MAX_FRAME), new Uint8Array(0), 'ok'],
    [new Uint8Array(64), new Uint8Array(3), 'ECTXIN'],
    [new Uint8Array(64), new Uint8Array(36), 'ok'],
    [new Uint8Array(64), new Uint8Array(216), 'ok'],
    [new Uint8Array(64), new Uint8Array(220), 'ECTXIN'],
  ];
  for (const [frame, meta, expected] of cases) assert.equal(code(() => hook.run(frame, run, { meta })), expected, `${frame.length}+${meta.length}`);
  assert.equal(code(() => hook.run(new Uint8Array(XDP_MAX_FRAME + 1), run)), 'EFRAME');
  if (!needKernel(t)) return;
  withProg(ProgType.XDP, asm('r0 = 2\nexit'), (p) => {
    const kernel = { EFRAME: 'EINVAL', ECTXIN: 'EINVAL', ok: 'ok' } as Record<string, string>;
    for (const [frame, meta, expected] of cases) assert.equal(code(() => kernelXdp(p, frame, meta)), kernel[expected], `${frame.length}+${meta.length}`);
  });
});

test('xdp: the hook keeps its regions across runs; programs cannot write xdp_md; helpers check r1', () => {
  const space = new AddressSpace();
  const hook = new XdpHook(space);
  const before = [hook.ctx.start, hook.ctx.end, hook.buffer.start, hook.buffer.end];
  const write = runner(hook, asm('r2 = 0\n*(u32 *)(r1 + 0) = r2\nr0 = 2\nexit'), 'jit');
  assert.throws(() => hook.run(new Uint8Array(64), write), (e: unknown) => e instanceof VmFault && e.code === 'EFAULT');
  const wrongCtx = runner(hook, asm('r1 = r10\nr2 = 0\ncall 44\nexit'), 'interp');
  assert.throws(() => hook.run(new Uint8Array(64), wrongCtx), (e: unknown) => e instanceof VmFault && e.code === 'EHELPER' && /context/.test(e.message));
  const tc = new TcHook(space);
  const foreign = runner(tc, asm('r2 = 0\ncall 44\nexit'), 'interp');
  assert.throws(() => tc.run(new Uint8Array(64), foreign), (e: unknown) => e instanceof VmFault && e.code === 'EHELPER');
  for (let i = 0; i < 3; i++) hook.run(new Uint8Array(100 + i), runner(hook, asm('r0 = 1\nexit'), 'jit'));
  assert.deepEqual([hook.ctx.start, hook.ctx.end, hook.buffer.start, hook.buffer.end], before);
});

test('xdp: redirect_map asks the resolver, falls back to the flags\' action, refuses unknown flags', () => {
  const present = new Set([2, 5]);
  const hook = new XdpHook(new AddressSpace(), {
    redirectMap: (map) => (map === 77n ? { type: 14, has: (k) => present.has(k) } : map === 78n ? { type: 16, has: () => true } : null),
  });
  const prog = (map: number, key: number, flags: number): RunFn => runner(hook, asm(`r1 = ${map}\nr2 = ${key}\nr3 = ${flags}\ncall 51\nexit`), 'interp');
  const frame = new Uint8Array(64);
  assert.deepEqual(hook.run(frame, prog(77, 5, 0)).redirect, { kind: 'map', map: 77n, mapType: 14, key: 5, broadcast: false, excludeIngress: false });
  assert.equal(hook.run(frame, prog(77, 4, 2)).actionName, 'XDP_PASS');
  assert.equal(hook.run(frame, prog(77, 4, 0)).actionName, 'XDP_ABORTED');
  assert.equal(hook.run(frame, prog(77, 4, 8 | 16)).actionName, 'XDP_REDIRECT');
  assert.equal(hook.run(frame, prog(78, 4, 8)).actionName, 'XDP_ABORTED', 'a cpumap takes no broadcast flag');
  assert.equal(hook.run(frame, prog(77, 2, 0x40)).actionName, 'XDP_ABORTED');
  assert.throws(() => hook.run(frame, prog(79, 0, 0)), (e: unknown) => e instanceof VmFault && e.code === 'EHELPER');
  assert.equal(hook.transmitted.length, 2);
});

// ---------------------------------------------------------------- tc and socket filters

type SkbKind = 'tc' | 'socket';
const SKB_TYPES: Record<SkbKind, number> = { tc: ProgType.SCHED_CLS, socket: ProgType.SOCKET_FILTER };

function skbHook(kind: SkbKind): TcHook | SocketFilterHook {
  return kind === 'tc' ? new TcHook(new AddressSpace()) : new SocketFilterHook(new AddressSpace());
}

/** Reads of every `__sk_buff` field that holds a value (not a kernel pointer), in several widths. */
const SKB_READS: Array<[string, string]> = [];
for (let off = 0; off <= 88; off += 4) if (off !== 76 && off !== 80) SKB_READS.push([`u32 @${off}`, `r0 = *(u32 *)(r1 + ${off})\nexit`]);
for (const off of [160, 164, 176]) SKB_READS.push([`u32 @${off}`, `r0 = *(u32 *)(r1 + ${off})\nexit`]);
for (const off of [152, 184]) {
  SKB_READS.push([`u64 @${off}`, `r0 = *(u64 *)(r1 + ${off})\nexit`]);
  SKB_READS.push([`u64 @${off} >> 32`, `r0 = *(u64 *)(r1 + ${off})\nr0 >>= 32\nexit`]);
}
for (const [size, off] of [['u8', 0], ['u16', 0], ['u16', 2], ['u8', 4], ['u16', 16], ['u8', 17], ['u16', 8], ['u8', 51], ['u8', 180], ['u16', 160]] as const) {
  SKB_READS.push([`${size} @${off}`, `r0 = *(${size} *)(r1 + ${off})\nexit`]);
}
SKB_READS.push(['data_end - data', 'r2 = *(u32 *)(r1 + 76)\nr0 = *(u32 *)(r1 + 80)\nr0 -= r2\nexit']);
SKB_READS.push(['data - data_meta', 'r2 = *(u32 *)(r1 + 140)\nr0 = *(u32 *)(r1 + 76)\nr0 -= r2\nexit']);
SKB_READS.push(['LD_ABS byte 0, half 12', 'r6 = r1\nr0 = *(u8 *)skb[0]\nr7 = r0\nr0 = *(u16 *)skb[12]\nr0 <<= 8\nr0 |= r7\nexit']);

for (const kind of ['tc', 'socket'] as const) {
  test(`${kind}: every __sk_buff field a program reads is the kernel's, for any frame and ctx given in`, (t) => {
    if (!needKernel(t)) return;
    const rng = new Rng(SEED ^ (kind === 'tc' ? 0x3333 : 0x4444));
    const cases = Array.from({ length: 14 }, (_, k) => {
      const frame = randomFrame(rng, k === 0 ? 14 : rng.int(14, 300));
      const len = kind === 'tc' ? frame.length : frame.length - 14;
      return { frame, ctx: k < 2 ? {} : randomSkbCtx(rng, len) };
    });
    const refused: string[] = [];
    let compared = 0;
    for (const [name, src] of SKB_READS) {
      let p: LoadedProgram;
      try {
        p = progLoad({ type: SKB_TYPES[kind], insns: asm(src) });
      } catch (e) {
        if (e instanceof KernelError && e.errnoName === 'EACCES') {
          refused.push(name);
          continue;
        }
        throw e;
      }
      try {
        for (const engine of ENGINES) {
          const hook = skbHook(kind);
          const run = runner(hook, asm(src), engine);
          for (const { frame, ctx } of cases) {
            const k = progTestRun(p, { data: frame, ctxIn: skbCtxIn(ctx), ctxOut: 192 });
            const v = hook.run(frame, run, ctx);
            assert.equal(Number(v.r0 & 0xffffffffn), k.retval, `${kind} ${name} (${engine}) on ${hex(frame.subarray(0, 16))}.. (${frame.length} bytes), ctx ${JSON.stringify(ctx, (_, x) => (typeof x === 'bigint' ? String(x) : x))}`);
            compared++;
          }
        }
      } finally {
        p.close();
      }
    }
    t.diagnostic(`${kind}: ${compared} reads compared; the verifier refuses ${refused.join(', ') || 'none'}`);
    assert.ok(compared > 500);
  });
}

test('tc: a C program reads every field into the frame and writes mark, priority, cb, tc_index, tstamp as in the kernel', (t) => {
  if (!needKernel(t)) return;
  const rng = new Rng(SEED ^ 0x5555);
  const code = fixture('tc_fields.o', 'tc_fields');
  withProg(ProgType.SCHED_CLS, code, (p) => {
    for (const engine of ENGINES) {
      const hook = new TcHook(new AddressSpace());
      const run = runner(hook, code, engine);
      for (let i = 0; i < 60; i++) {
        const frame = randomFrame(rng, i < 3 ? rng.int(14, 100) : rng.int(142, 500));
        const ctx = randomSkbCtx(rng, frame.length);
        const k = progTestRun(p, { data: frame, ctxIn: skbCtxIn(ctx), ctxOut: 192 });
        const v = hook.run(frame, run, ctx);
        const what = `frame ${i} (${engine})`;
        assert.equal(v.action, k.retval | 0, what);
        assert.equal(v.actionName, ['TC_ACT_OK', 'TC_ACT_PIPE', 'TC_ACT_SHOT'][[0, 3, 2].indexOf(k.retval)], what);
        assert.equal(hex(v.packet), hex(k.dataOut), what);
        const ko = skbCtxOut(k.ctxOut!);
        assert.deepEqual({ mark: v.mark, priority: v.priority, cb: v.cb, tstamp: v.tstamp, wireLen: v.wireLen }, { mark: ko.mark, priority: ko.priority, cb: ko.cb, tstamp: ko.tstamp, wireLen: ko.wireLen }, what);
        if (frame.length >= 142) assert.deepEqual([v.tcIndex, v.tcClassid], [0x1234, 0x42]);
      }
    }
  });
});

/** Largest packet the kernel's test-run skb holds in zeroed memory without reallocating (kmalloc's power-of-two buckets). */
function zeroedRoom(len: number): number {
  const need = 64 + Math.ceil(len / 64) * 64 + 320;
  let bucket = 512;
  while (bucket < need) bucket *= 2;
  return bucket - 64 - 320;
}

/** A control block for testdata/hooks/tc_helpers.c (after the Ethernet header of a `len`-byte frame). */
function tcControl(rng: Rng, len: number): Uint8Array {
  const c = new Uint8Array(104);
  const v = new DataView(c.buffer);
  const off = (): number => (rng.chance(0.85) ? rng.int(0, len + 4) : rng.pick([0x10000, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe]));
  const put = (at: number, x: number): void => v.setUint32(at, x >>> 0, true);
  const csum = (at: number, flags: number): void => {
    put(at, off());
    const fromZero = (flags & 0xf) === 0 && rng.chance(0.8);
    put(at + 4, fromZero ? 0 : rng.chance(0.3) ? rng.u32() & 0xffff : rng.u32());
    put(at + 8, rng.chance(0.2) ? rng.pick([0, 0xffff, 0xffffffff]) : rng.u32());
    put(at + 12, flags);
  };
  csum(0, rng.pick([0, 0, 2, 4, 4, 1, 3, 8, 0x10, 0x12]));
  csum(16, rng.pick([0, 2, 4]) | (rng.chance(0.3) ? 0x10 : 0) | (rng.chance(0.4) ? 0x20 : 0) | (rng.chance(0.2) ? 0x40 : 0) | (rng.chance(0.1) ? 0x80 : 0) | (rng.chance(0.05) ? 0x100 : 0));
  put(32, off()); // st_off
  put(36, rng.u32()); // st_len
  put(40, rng.pick([0, 0, 1, 2, 3, 4])); // st_flags
  c.set(rng.bytes(8), 44); // st_data
  put(52, off()); // ld_off
  put(56, rng.u32()); // ld_len
  put(60, rng.chance(0.9) ? rng.int(0, len + 4) : rng.pick([0x10000, 0xffff])); // rel_off
  put(64, rng.u32()); // rel_len
  put(68, rng.pick([0, 1, 1, 2])); // rel_hdr
  put(72, rng.chance(0.3) ? 0 : rng.int(0, len + 30)); // pull_len
  put(76, rng.u32()); // hash
  put(80, rng.int(0, 2)); // hash_op
  const room = zeroedRoom(len);
  put(84, rng.chance(0.8) ? rng.int(14, room) : rng.pick([0, 13, 16064, 16065, 20000])); // tail_len
  put(88, rng.chance(0.9) ? 0 : 1); // tail_flags
  put(92, rng.int(0, 9)); // redir_ifindex
  put(96, rng.pick([0, 0, 1, 2, 0x20000])); // redir_flags
  put(100, rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 7, 8, 0xffffffff])); // action
  return c;
}

/** The helper results tc_helpers.c writes after the Ethernet header, in order. */
const HELPER_RESULTS = ['l3', 'l4', 'st', 'ld', 'rel', 'pull', 'hash', 'tail', 'redir'];

test('tc: store_bytes, l3/l4_csum_replace, load_bytes(_relative), pull_data, set_hash, change_tail, redirect match the kernel', (t) => {
  if (!needKernel(t)) return;
  const rng = new Rng(SEED ^ 0x6666);
  const code = fixture('tc_helpers.o', 'tc_helpers');
  withProg(ProgType.SCHED_CLS, code, (p) => {
    const hooks = ENGINES.map((engine) => {
      const hook = new TcHook(new AddressSpace());
      return { engine, hook, run: runner(hook, code, engine) };
    });
    const seen = new Set<number>();
    const outcomes = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const len = rng.chance(0.1) ? rng.int(700, 3000) : rng.int(14 + 104, 400);
      const frame = randomFrame(rng, len);
      frame.set(tcControl(rng, len), 14);
      const ctx = rng.chance(0.3) ? randomSkbCtx(rng, len) : {};
      const k = progTestRun(p, { data: frame, ctxIn: skbCtxIn(ctx), ctxOut: 192, dataSizeOut: 20000 });
      for (const { engine, hook, run } of hooks) {
        const v = hook.run(frame, run, ctx);
        const what = `frame ${i} (${engine}), control ${hex(frame.subarray(14, 118))}`;
        assert.equal(v.action, k.retval | 0, what);
        assert.equal(hex(v.packet), hex(k.dataOut), what);
        if (v.action === 7 && engine === 'jit') assert.ok(v.redirect, what);
      }
      seen.add(k.retval | 0);
      if ((k.retval | 0) < 100 && k.dataOut.length >= 14 + 36) {
        const r = new DataView(k.dataOut.buffer, k.dataOut.byteOffset + 14);
        HELPER_RESULTS.forEach((name, j) => outcomes.add(`${name} ${r.getInt32(4 * j, true)}`));
      }
    }
    assert.ok(seen.size >= 8, `verdicts seen: ${[...seen].join(', ')}`);
    const expected = ['l3 0', 'l3 -14', 'l3 -22', 'l4 0', 'l4 -14', 'l4 -22', 'st 0', 'st -14', 'st -22', 'ld 0', 'ld -14',
      'rel 0', 'rel -14', 'pull 0', 'pull -12', 'tail 0', 'tail -22', 'redir 7', 'redir 2'];
    assert.deepEqual(expected.filter((o) => !outcomes.has(o)), [], `outcomes seen: ${[...outcomes].sort().join(', ')}`);
  });
});

test('tc: l3/l4_csum_replace agree with the kernel on the edge values of ones\' complement sums', (t) => {
  if (!needKernel(t)) return;
  const rng = new Rng(SEED ^ 0x8888);
  const code = fixture('tc_helpers.o', 'tc_helpers');
  const sums = [0x0000, 0xffff, 0x0001, 0xfffe, 0x8000, 0x7fff];
  const words = [0, 0xffff, 0xffffffff, 0xffff0000, 0x0000ffff, 1, 0x80000000, 0xfffeffff];
  withProg(ProgType.SCHED_CLS, code, (p) => {
    const hook = new TcHook(new AddressSpace());
    const run = runner(hook, code, 'jit');
    for (let i = 0; i < 600; i++) {
      const frame = randomFrame(rng, 160);
      frame[12] = 0x08;
      frame[13] = 0x06;
      const c = new DataView(frame.buffer, 14);
      const size = rng.pick([0, 2, 4]);
      const from = size === 0 ? 0 : rng.chance(0.7) ? rng.pick(words) : rng.u32();
      const to = rng.chance(0.7) ? rng.pick(words) : rng.u32();
      const field = new DataView(frame.buffer, 140);
      field.setUint16(0, rng.chance(0.7) ? rng.pick(sums) : rng.u32() & 0xffff, true);
      field.setUint16(2, rng.chance(0.7) ? rng.pick(sums) : rng.u32() & 0xffff, true);
      c.setUint32(0, 140, true);
      c.setUint32(4, from, true);
      c.setUint32(8, rng.chance(0.2) ? from : to, true);
      c.setUint32(12, size, true);
      c.setUint32(16, 142, true);
      c.setUint32(20, from, true);
      c.setUint32(24, rng.chance(0.2) ? from : to, true);
      c.setUint32(28, size | (rng.chance(0.5) ? 0x20 : 0) | (rng.chance(0.3) ? 0x40 : 0) | (rng.chance(0.3) ? 0x10 : 0), true);
      for (const at of [32, 52, 60, 72, 84]) c.setUint32(at, 0xffffffff, true); // the other helpers fail harmlessly
      c.setUint32(80, 0, true);
      c.setUint32(84, 160, true);
      c.setUint32(100, 0, true);
      const k = progTestRun(p, { data: frame, ctxIn: skbCtxIn({}), ctxOut: 192 });
      const v = hook.run(frame, run);
      assert.equal(hex(v.packet.subarray(140, 144)), hex(k.dataOut.subarray(140, 144)), `case ${i}: sums ${hex(frame.subarray(140, 144))}, from ${from.toString(16)}, control ${hex(frame.subarray(14, 46))}`);
      assert.equal(hex(v.packet), hex(k.dataOut));
    }
  });
});

test('socket filter: LD_ABS, load_bytes, load_bytes_relative and cb as in the kernel, which sees data after the Ethernet header', (t) => {
  if (!needKernel(t)) return;
  const rng = new Rng(SEED ^ 0x7777);
  const code = fixture('socket_filter.o', 'socket_filter');
  withProg(ProgType.SOCKET_FILTER, code, (p) => {
    for (const engine of ENGINES) {
      const hook = new SocketFilterHook(new AddressSpace());
      const run = runner(hook, code, engine);
      let accepted = 0;
      for (let i = 0; i < 150; i++) {
        const frame = randomFrame(rng, i < 20 ? 14 + i : rng.int(14, 300));
        const ctx = rng.chance(0.5) ? randomSkbCtx(rng, frame.length - 14) : {};
        const k = progTestRun(p, { data: frame, ctxIn: skbCtxIn(ctx), ctxOut: 192 });
        const v = hook.run(frame, run, ctx);
        const what = `frame ${i} (${engine}): ${hex(frame.subarray(0, 24))}`;
        assert.equal(v.retval, k.retval, what);
        assert.equal(v.verdict, k.retval === 0 ? 'drop' : 'accept');
        assert.equal(hex(k.dataOut.subarray(0, 14)), '00'.repeat(14), 'the kernel hands back a zeroed Ethernet header');
        assert.equal(hex(v.packet), hex(k.dataOut.subarray(14)), what);
        assert.deepEqual(v.cb, skbCtxOut(k.ctxOut!).cb, what);
        if (v.verdict === 'accept') accepted++;
      }
      assert.ok(accepted > 20 && accepted < 140, `${accepted} accepted`);
    }
  });
});

function ipFrame(type: number, len: number): Uint8Array {
  const f = new Uint8Array(len);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  return f;
}

test('tc and socket filter: frame limits and the ctx fields the kernel refuses', (t) => {
  const frame = randomFrame(new Rng(9), 100);
  const cases: Array<[string, Uint8Array, Parameters<TcHook['run']>[2], string]> = [
    ['13 bytes', new Uint8Array(13), {}, 'EFRAME'],
    ['14 bytes', new Uint8Array(14), {}, 'ok'],
    ['IPv4, 33 bytes', ipFrame(0x0800, 33), {}, 'EFRAME'],
    ['IPv4, 34 bytes', ipFrame(0x0800, 34), {}, 'ok'],
    ['IPv6, 53 bytes', ipFrame(0x86dd, 53), {}, 'EFRAME'],
    ['IPv6, 54 bytes', ipFrame(0x86dd, 54), {}, 'ok'],
    ['largest', new Uint8Array(SKB_MAX_FRAME), {}, 'ok'],
    ['one past the largest', new Uint8Array(SKB_MAX_FRAME + 1), {}, 'EFRAME'],
    ['wire_len below len', frame, { wireLen: 50 }, 'ECTXIN'],
    ['wire_len of len', frame, { wireLen: 100 }, 'ok'],
    ['wire_len over 64 KiB', frame, { wireLen: 65537 }, 'ECTXIN'],
    ['gso_segs over 65535', frame, { gsoSegs: 65536 }, 'ECTXIN'],
  ];
  const outcome = (f: () => unknown): string => {
    try {
      f();
      return 'ok';
    } catch (e) {
      if (e instanceof HookError) return e.code;
      if (e instanceof KernelError) return e.errnoName === 'EINVAL' ? 'EINVAL' : e.errnoName;
      throw e;
    }
  };
  const hook = new TcHook(new AddressSpace());
  const run = runner(hook, asm('r0 = 0\nexit'), 'interp');
  for (const [name, f, ctx, expected] of cases) assert.equal(outcome(() => hook.run(f, run, ctx)), expected, name);
  if (!needKernel(t)) return;
  withProg(ProgType.SCHED_CLS, asm('r0 = 0\nexit'), (p) => {
    for (const [name, f, ctx, expected] of cases) {
      assert.equal(outcome(() => progTestRun(p, { data: f, ctxIn: skbCtxIn(ctx ?? {}), ctxOut: 192, dataSizeOut: 8192 })), expected === 'ok' ? 'ok' : 'EINVAL', name);
    }
  });
});

// ---------------------------------------------------------------- tracepoints and uprobes

/** A RunFn that also records each run's r0. */
function recording(run: RunFn, into: bigint[]): RunFn {
  return (args, host, packet) => {
    const r0 = run(args, host, packet);
    into.push(r0);
    return r0;
  };
}

test('tracepoints: a host event described by BTF runs every attached program with r1 = its record', (t) => {
  const btf = Btf.parse(fixtureBtf('tracepoint.o'));
  const code = fixture('tracepoint.o', 'on_event');
  const space = new AddressSpace();
  const tps = new Tracepoints(space);
  const ev = tps.define('tsbpf/event', { btf, type: 'tsbpf_event' });
  assert.equal(ev.size, 48);
  const host = { space, helpers: () => [] };
  const seen: bigint[] = [];
  const detachJit = tps.attach('tsbpf/event', recording(runner(host, code, 'jit'), seen));
  tps.attach('tsbpf/event', runner(host, code, 'interp'));
  const expected = (v: { ts: bigint; pid: number; comm: string; value: number; flags: number }): bigint =>
    BigInt(v.value + v.pid * 1000 + v.comm.charCodeAt(0) + v.comm.charCodeAt(1) + (v.flags << 20) + Number(v.ts & 0xffn));
  const a = { ts: 0x1234n, pid: 42, comm: 'node', value: -5, flags: 3 };
  const r = tps.fire('tsbpf/event', a);
  assert.equal(r.length, 2);
  assert.ok(r.every((x) => BigInt.asIntN(32, x) === expected(a)), `${r} vs ${expected(a)}`);
  const b = { ts: 0xffn, pid: 7, comm: 'xy', value: 1000, flags: 0 };
  const raw = new Uint8Array(48);
  const dv = new DataView(raw.buffer);
  dv.setBigUint64(8, b.ts, true);
  dv.setUint32(16, b.pid, true);
  raw.set([0x78, 0x79], 20);
  dv.setInt32(36, b.value, true);
  assert.deepEqual(tps.fire('tsbpf/event', raw).map((x) => BigInt.asIntN(32, x)), [expected(b), expected(b)]);
  detachJit();
  assert.equal(tps.fire('tsbpf/event', a).length, 1);
  assert.equal(seen.length, 2);
  assert.throws(() => tps.fire('nope', raw), (e: unknown) => e instanceof HookError && e.code === 'EHOOK');
  assert.throws(() => tps.fire('tsbpf/event', new Uint8Array(49)), (e: unknown) => e instanceof HookError);
  assert.throws(() => tps.define('tsbpf/event', { size: 8 }), (e: unknown) => e instanceof HookError);
  tps.define('raw', { size: 16 });
  tps.attach('raw', runner(host, asm('r2 = 1\n*(u64 *)(r1 + 0) = r2\nr0 = 0\nexit'), 'jit'));
  assert.throws(() => tps.fire('raw', new Uint8Array(16)), (e: unknown) => e instanceof VmFault && e.code === 'EFAULT', 'the record is read-only');
  if (!needKernel(t)) return;
  withProg(ProgType.TRACEPOINT, code, () => undefined); // the same program is valid for the kernel
});

test('uprobes: BPF_KPROBE-style C reads the arguments from pt_regs, the return probe reads rax', (t) => {
  const space = new AddressSpace();
  const up = new UprobeHook(space);
  const host = { space, helpers: () => [] };
  const names = ['arg1', 'arg2', 'arg3', 'arg4', 'arg5', 'arg6', 'ip'] as const;
  const seen = new Map<string, bigint[]>();
  const snapshots: number[][] = [];
  const entryOf = (name: string): RunFn => {
    const into: bigint[] = [];
    seen.set(name, into);
    const run = recording(runner(host, fixture('uprobe.o', name), name.length % 2 ? 'jit' : 'interp'), into);
    if (name !== 'arg5') return run;
    // The argument region lives for one probe run: look at the bytes while it runs.
    return (args, h, p) => {
      const r0 = run(args, h, p);
      snapshots.push([...space.u8.subarray(Number(r0), Number(r0) + 3)]);
      return r0;
    };
  };
  const rets: bigint[] = [];
  function target(this: unknown, a: number, b: bigint, c: boolean, d: string, e: Uint8Array, f: number): number {
    return a * 2 + Math.trunc(f) + (this === undefined ? 0 : 1000);
  }
  let wrapped = target;
  for (const n of names) wrapped = up.attachUprobe(wrapped, { entry: entryOf(n) });
  wrapped = up.attachUprobe(wrapped, { ret: recording(runner(host, fixture('uprobe.o', 'ret'), 'jit'), rets) });
  assert.equal(wrapped.name, 'target');
  assert.equal(wrapped.length, 6);
  assert.equal(wrapped(21, -2n, true, 'hi!', new Uint8Array([9, 8, 7]), 7.9), 49);
  assert.equal(wrapped.call({}, 1, 0n, false, '', new Uint8Array(0), -3), 999);
  const get = (n: string): bigint[] => seen.get(n)!;
  assert.deepEqual(get('arg1'), [21n, 1n]);
  assert.deepEqual(get('arg2'), [2n ** 64n - 2n, 0n]);
  assert.deepEqual(get('arg3'), [1n, 0n]);
  assert.deepEqual(get('arg6'), [7n, 2n ** 64n - 3n]);
  const [strAddr] = get('arg4');
  assert.ok(strAddr! >= BigInt(up.args.start) && strAddr! < BigInt(up.args.end));
  assert.deepEqual(snapshots[0], [9, 8, 7]);
  const greet = up.attachUprobe((who: string) => `hello ${who}`, { entry: entryOf('str1') });
  assert.equal(greet('hi!'), 'hello hi!');
  assert.equal(greet(''), 'hello ');
  // bpf_probe_read_user_str: 4 bytes with the NUL, then 'h' and 'i'; then just the NUL.
  assert.deepEqual(get('str1'), [(4n << 16n) | (0x68n << 8n) | 0x69n, 1n << 16n]);
  assert.ok(get('ip').every((x) => x === get('ip')[0] && x >= 0x401000n), 'rip names the probed function');
  assert.deepEqual(rets, [49n, 999n]);
  const boom = up.attachUprobe(() => { throw new Error('boom'); }, { ret: recording(runner(host, fixture('uprobe.o', 'ret'), 'jit'), rets) });
  assert.throws(() => boom(), /boom/);
  assert.equal(rets.length, 2, 'a call that throws runs no return probe');
  const small = new UprobeHook(new AddressSpace(), { argBytes: 8 });
  const tiny = { space: small.space, helpers: () => [] };
  const got: bigint[] = [];
  small.attachUprobe((s: string) => s, { entry: recording(runner(tiny, fixture('uprobe.o', 'arg1'), 'jit'), got) })('far too long for 8 bytes');
  assert.deepEqual([got, small.missedArgs], [[0n], 1]);
  if (!needKernel(t)) return;
  for (const n of [...names, 'str1', 'ret']) withProg(ProgType.KPROBE, fixture('uprobe.o', n), () => undefined);
});

test('testdata/hooks/build.sh rebuilds the committed objects byte for byte (when clang-19 is installed)', (t) => {
  if (!needClang(t)) return;
  const sources = readdirSync(HOOKS_DIR).filter((f) => f.endsWith('.c')).sort();
  const objects = readdirSync(HOOKS_DIR).filter((f) => f.endsWith('.o')).sort();
  assert.deepEqual(objects, sources.map((f) => f.replace(/\.c$/, '.o')), 'one committed object per source');
  rebuildElsewhere('hooks', sources, (dir) => {
    for (const o of objects) assert.ok(readFileSync(join(dir, o)).equals(readFileSync(join(HOOKS_DIR, o))), `${o} differs from the committed object`);
  });
});

test('each hook\'s list of allowed helpers is what the kernel\'s verifier accepts; each packet helper is on its list', (t) => {
  const space = new AddressSpace();
  const hooks = [
    ['XDP', XdpHook.allowedHelpers, new XdpHook(space).helpers()],
    ['SCHED_CLS', TcHook.allowedHelpers, new TcHook(space).helpers()],
    ['SOCKET_FILTER', SocketFilterHook.allowedHelpers, new SocketFilterHook(space).helpers()],
    ['KPROBE', UprobeHook.allowedHelpers, []],
    ['TRACEPOINT', Tracepoints.allowedHelpers, []],
  ] as const;
  for (const [type, allowed, defs] of hooks) {
    for (const d of defs) assert.ok(allowed.includes(d.id), `${type} provides ${d.name} (${d.id}) but does not allow it`);
  }
  if (!needKernel(t)) return;
  for (const [type, allowed] of hooks) {
    const accepted: number[] = [];
    for (let id = 1; id <= 211; id++) {
      try {
        progLoad({ type: ProgType[type], insns: asm(`r1 = 0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall ${id}\nr0 = 0\nexit`) }).close();
        accepted.push(id);
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        if (!/unknown func|program of this type cannot use helper/.test(e.log)) accepted.push(id);
      }
    }
    assert.deepEqual(accepted, [...allowed], `${type}: the verifier accepts calls to these helper ids`);
  }
});

test('uprobes on JS functions run as this process: the task helpers see its pid and comm', () => {
  const space = new AddressSpace();
  const vm = new Vm(assemble('call 14\nr0 >>= 32\nexit'), { space, frames: stackFrames(space), helpers: commonHelpers() });
  const hook = new UprobeHook(space);
  let tgid = -1n;
  const add = hook.attachUprobe((a: number, b: number) => a + b, { entry: (args, host) => { vm.host = host; tgid = vm.run({ args }).r0; return tgid; } });
  assert.equal(add(2, 3), 5);
  assert.equal(tgid, BigInt(process.pid));
});
