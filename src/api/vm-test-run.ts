/**
 * BPF_PROG_TEST_RUN in the vm: the kernel's input and output (data, ctx in
 * and out, retval, duration) mapped onto the userspace hooks.
 *
 * - XDP: `ctxIn` is `struct xdp_md`; its `data` is how many of the first
 *   bytes of `data` are metadata, `data_end` must be the length of `data`
 *   (Linux 6.18 takes a smaller one as the end of the linear part and puts
 *   the rest in fragments; the vm has no fragments and says ENOTSUPP).
 *   `dataOut` is the metadata and the packet after the run.
 * - tc (`SCHED_CLS`, `SCHED_ACT`): `ctxIn` is `struct __sk_buff` with only
 *   the fields the kernel lets a caller set (mark, priority, ingress_ifindex,
 *   ifindex, cb, tstamp, wire_len, gso_segs, gso_size, hwtstamp); `dataOut`
 *   is the packet.
 * - socket filter: as tc, but the program sees the packet from the network
 *   header on, and `dataOut` has the Ethernet header zeroed, as the kernel
 *   gives it back.
 * The ctx given out is the one given in with the fields the kernel writes
 * back (xdp: data, data_end; skb: mark, priority, ingress_ifindex, ifindex,
 * tstamp, cb, wire_len, gso_segs, hwtstamp).
 */
import type { VmCollection, VmProgram } from '../vm/index.js';
import { SkBuff, SocketFilterHook, TcHook, XdpHook, XdpMd, type RunFn, type SkbOutput, type SkbRunOptions } from '../vm/hooks/index.js';
import type { TestRunInput, TestRunOutput } from './collection.js';
import { CollectionError } from './errors.js';

const ETH_HLEN = 14;
/** `QDISC_CB_PRIV_LEN` / 4: the cb words a caller may set. */
const CB_WORDS = 5;
/** The only device of the vm: loopback, one rx queue. */
const LOOPBACK = 1;

/** `__sk_buff` byte ranges a caller may set; every other byte of ctx_in must be zero (the kernel's EINVAL). */
const SKB_SETTABLE: ReadonlyArray<readonly [number, number]> = [
  [SkBuff.mark, 4], [SkBuff.priority, 4], [SkBuff.ingressIfindex, 4], [SkBuff.ifindex, 4], [SkBuff.cb, 4 * CB_WORDS],
  [SkBuff.tstamp, 8], [SkBuff.wireLen, 4], [SkBuff.gsoSegs, 4], [SkBuff.gsoSize, 4], [SkBuff.hwtstamp, 8],
];

const performanceNow = (): number => globalThis.performance.now();

/** The ctx runs of one collection share (a hook of each kind, made when first needed). */
export class VmTestRunner {
  #xdp: XdpHook | null = null;
  #tc: TcHook | null = null;
  #socket: SocketFilterHook | null = null;

  constructor(private readonly col: VmCollection) {}

  run(prog: VmProgram, input: TestRunInput): TestRunOutput {
    const fail = (errno: string, detail: string): CollectionError => new CollectionError('vm', 'test_run', `program ${prog.name}`, errno, detail);
    const repeat = input.repeat ?? 0;
    if (!Number.isSafeInteger(repeat) || repeat < 0 || repeat > 0xffffffff) throw fail('EINVAL', `bad repeat ${String(repeat)}`);
    const cpu = input.cpu ?? 0;
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.col.cpus) throw fail('EINVAL', `CPU ${String(cpu)} is not one of the ${this.col.cpus} virtual CPUs`);
    const type = prog.spec.type;
    const packetType = type === 'XDP' || type === 'SCHED_CLS' || type === 'SCHED_ACT' || type === 'SOCKET_FILTER';
    if (!packetType) throw fail('ENOTSUPP', `the vm test-runs XDP, tc and socket filter programs; this one is ${type}`);
    const data = input.data;
    if (!(data instanceof Uint8Array)) throw fail('EINVAL', `a ${type} test-run needs data (a packet)`);

    let insns = 0;
    const runFn: RunFn = (args, host, packet) => {
      const r = prog.run(args, { ...this.col.host(prog.name, cpu), ...host }, packet ?? null);
      insns += r.insns;
      return r.r0;
    };
    const runs = Math.max(1, repeat);
    let out: { retval: number; dataOut: Uint8Array; ctxOut?: Uint8Array };
    const t0 = performanceNow();
    if (type === 'XDP') {
      const ctx = input.ctxIn ? ctxBytes(input.ctxIn, XdpMd.size, fail) : null;
      const { frame, opts } = xdpInput(data, ctx, fail);
      const hook = (this.#xdp ??= new XdpHook(this.col.space));
      let r = hook.run(frame, runFn, { ...opts, cpu });
      for (let k = 1; k < runs; k++) r = hook.run(frame, runFn, { ...opts, cpu });
      out = { retval: Number(r.r0 & 0xffffffffn), dataOut: concat(r.meta, r.packet) };
      if (ctx) out.ctxOut = xdpCtxOut(ctx, r.meta.length, r.packet.length);
    } else {
      const ctx = input.ctxIn ? ctxBytes(input.ctxIn, SkBuff.size, fail) : null;
      const opts: SkbRunOptions = { ...(ctx ? skbInput(ctx, fail) : {}), cpu };
      const socket = type === 'SOCKET_FILTER';
      const hook = socket ? (this.#socket ??= new SocketFilterHook(this.col.space)) : (this.#tc ??= new TcHook(this.col.space));
      let r = hook.run(data, runFn, opts);
      for (let k = 1; k < runs; k++) r = hook.run(data, runFn, opts);
      out = { retval: Number(r.r0 & 0xffffffffn), dataOut: socket ? concat(new Uint8Array(ETH_HLEN), r.packet) : r.packet };
      if (ctx) out.ctxOut = skbCtxOut(ctx, r);
    }
    const duration = Math.round(((performanceNow() - t0) * 1e6) / runs);
    return { ...out, duration, insns };
  }
}

type Fail = (errno: string, detail: string) => CollectionError;

/**
 * A ctx given in, as the kernel takes it: shorter is zero-filled; longer
 * must be zeros past the struct (E2BIG otherwise).
 */
function ctxBytes(ctxIn: Uint8Array, size: number, fail: Fail): Uint8Array {
  if (!(ctxIn instanceof Uint8Array)) throw fail('EINVAL', 'ctxIn must be bytes');
  for (let k = size; k < ctxIn.length; k++) if (ctxIn[k] !== 0) throw fail('E2BIG', `the ctx is ${size} bytes; byte ${k} given in is not zero`);
  const out = new Uint8Array(size);
  out.set(ctxIn.subarray(0, size));
  return out;
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** The frame and hook options of an XDP run from `data` and the `xdp_md` given in. */
function xdpInput(data: Uint8Array, ctx: Uint8Array | null, fail: Fail): { frame: Uint8Array; opts: { meta?: Uint8Array; ingressIfindex?: number; rxQueueIndex?: number } } {
  if (ctx === null) return { frame: data, opts: {} };
  const v = view(ctx);
  const dataOff = v.getUint32(XdpMd.data, true);
  const dataEnd = v.getUint32(XdpMd.dataEnd, true);
  if (v.getUint32(XdpMd.dataMeta, true) !== 0) throw fail('EINVAL', 'xdp_md.data_meta given in must be 0');
  if (dataEnd > data.length) throw fail('EINVAL', `xdp_md.data_end ${dataEnd} is past the end of the ${data.length} bytes of data`);
  // Linux 6.18 makes the bytes past data_end fragments of a multi-buffer frame; the vm has none.
  if (dataEnd < data.length) throw fail('ENOTSUPP', `xdp_md.data_end ${dataEnd} before the end of data (${data.length}) asks for XDP fragments, which the vm does not model`);
  if (dataOff > dataEnd) throw fail('EINVAL', `xdp_md.data ${dataOff} is past data_end ${dataEnd}`);
  if (v.getUint32(XdpMd.egressIfindex, true) !== 0) throw fail('EINVAL', 'xdp_md.egress_ifindex given in must be 0');
  const ingress = v.getUint32(XdpMd.ingressIfindex, true);
  const rxq = v.getUint32(XdpMd.rxQueueIndex, true);
  if (ingress === 0 && rxq !== 0) throw fail('EINVAL', 'xdp_md.rx_queue_index needs an ingress_ifindex');
  if (ingress > LOOPBACK) throw fail('ENODEV', `no device with ifindex ${ingress}: the vm has only loopback (1)`);
  if (ingress === LOOPBACK && rxq !== 0) throw fail('EINVAL', `loopback has one rx queue; rx_queue_index ${rxq} does not exist`);
  const meta = data.subarray(0, dataOff);
  return { frame: data.subarray(dataOff), opts: { meta, ...(ingress ? { ingressIfindex: ingress } : {}), rxQueueIndex: rxq } };
}

function xdpCtxOut(ctx: Uint8Array, metaLen: number, packetLen: number): Uint8Array {
  const out = ctx.slice();
  const v = view(out);
  v.setUint32(XdpMd.data, metaLen, true);
  v.setUint32(XdpMd.dataEnd, metaLen + packetLen, true);
  return out;
}

function skbInput(ctx: Uint8Array, fail: Fail): SkbRunOptions {
  const settable = new Uint8Array(SkBuff.size);
  for (const [at, len] of SKB_SETTABLE) settable.fill(1, at, at + len);
  for (let k = 0; k < SkBuff.size; k++) {
    if (ctx[k] !== 0 && !settable[k]) throw fail('EINVAL', `__sk_buff byte ${k} given in is not one a caller may set`);
  }
  const v = view(ctx);
  const ifindex = v.getUint32(SkBuff.ifindex, true);
  if (ifindex > LOOPBACK) throw fail('ENODEV', `no device with ifindex ${ifindex}: the vm has only loopback (1)`);
  const wireLen = v.getUint32(SkBuff.wireLen, true);
  return {
    mark: v.getUint32(SkBuff.mark, true),
    priority: v.getUint32(SkBuff.priority, true),
    ingressIfindex: v.getUint32(SkBuff.ingressIfindex, true),
    ifindex,
    cb: Array.from({ length: CB_WORDS }, (_, k) => v.getUint32(SkBuff.cb + 4 * k, true)),
    tstamp: v.getBigUint64(SkBuff.tstamp, true),
    ...(wireLen ? { wireLen } : {}),
    gsoSegs: v.getUint32(SkBuff.gsoSegs, true),
    gsoSize: v.getUint32(SkBuff.gsoSize, true),
    hwtstamp: v.getBigUint64(SkBuff.hwtstamp, true),
  };
}

function skbCtxOut(ctx: Uint8Array, r: SkbOutput): Uint8Array {
  const out = ctx.slice();
  const v = view(out);
  v.setUint32(SkBuff.mark, r.mark, true);
  v.setUint32(SkBuff.priority, r.priority, true);
  v.setUint32(SkBuff.ifindex, LOOPBACK, true);
  v.setBigUint64(SkBuff.tstamp, r.tstamp, true);
  r.cb.forEach((w, k) => v.setUint32(SkBuff.cb + 4 * k, w, true));
  v.setUint32(SkBuff.wireLen, r.wireLen, true);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
