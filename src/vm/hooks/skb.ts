/**
 * `struct __sk_buff` as Linux's BPF_PROG_TEST_RUN fills it (net/bpf/test_run.c)
 * for tc and socket filter programs: the frame arrives on the loopback device
 * (ifindex 1, all-zero address) through `eth_type_trans`, 64 bytes after the
 * start of the buffer (NET_SKB_PAD), with a ctx given in (mark, priority,
 * ingress_ifindex, cb, tstamp, wire_len, gso_segs, gso_size, hwtstamp).
 * tc programs see the frame from its Ethernet header; socket filters see it
 * from the network header, and `len` does not count the Ethernet header.
 *
 * Where the vm differs: every run acts as if a ctx was given in (without
 * one the kernel leaves `wire_len` 0); tc_index, tc_classid and
 * queue_mapping are narrowed to the kernel's 16 bits when the run ends, not
 * at each store; LD_ABS / LD_IND read the packet as it was when the run
 * began; only the loopback device exists.
 */
import type { AddressSpace, Region } from '../address-space.js';
import type { RunHost } from '../helpers.js';
import { ETH_HLEN, HookError, LOOPBACK_IFINDEX, PAGE_SIZE, SHINFO_SIZE, copyOut, put, window, type RunFn } from './common.js';

/** `struct __sk_buff` offsets (192 bytes). */
export const SkBuff = {
  len: 0, pktType: 4, mark: 8, queueMapping: 12, protocol: 16, vlanPresent: 20, vlanTci: 24, vlanProto: 28,
  priority: 32, ingressIfindex: 36, ifindex: 40, tcIndex: 44, cb: 48, hash: 68, tcClassid: 72,
  data: 76, dataEnd: 80, napiId: 84, family: 88, remoteIp4: 92, localIp4: 96, remoteIp6: 100, localIp6: 116,
  remotePort: 132, localPort: 136, dataMeta: 140, flowKeys: 144, tstamp: 152, wireLen: 160, gsoSegs: 164,
  sk: 168, gsoSize: 176, tstampType: 180, hwtstamp: 184, size: 192,
} as const;

/** NET_SKB_PAD + NET_IP_ALIGN on x86-64: the headroom before the frame. */
export const SKB_HEADROOM = 64;
/** The longest frame a test-run takes (a page less headroom and `skb_shared_info`). */
export const SKB_MAX_FRAME = PAGE_SIZE - SKB_HEADROOM - SHINFO_SIZE;
/** BPF_SKB_MAX_LEN (SKB_MAX_ALLOC): how far `bpf_skb_change_tail` may grow a packet. */
export const SKB_MAX_LEN = 4 * PAGE_SIZE - SHINFO_SIZE;
/** GSO_LEGACY_MAX_SIZE and GSO_MAX_SEGS: the limits of `wire_len` and `gso_segs` given in. */
const WIRE_LEN_MAX = 65536;
const GSO_SEGS_MAX = 65535;

/** `skb->pkt_type` values. */
export const PacketType = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3 } as const;

/** The `__sk_buff` fields a caller may give in, as the kernel's ctx_in allows. */
export interface SkbRunOptions {
  mark?: number;
  priority?: number;
  /** `ingress_ifindex` (`skb->skb_iif`): 0 unless given. */
  ingressIfindex?: number;
  /** Only the loopback device (1) exists here; 0 means it too. */
  ifindex?: number;
  /** Up to five u32 words. */
  cb?: readonly number[];
  tstamp?: bigint;
  /** `wire_len`: at least the packet's `len`, at most 65536; the packet's `len` unless given. */
  wireLen?: number;
  gsoSegs?: number;
  gsoSize?: number;
  hwtstamp?: bigint;
  /** The virtual CPU of the run. */
  cpu?: number;
  /** More fields for `env.host` (printk, task, maps...). */
  host?: Readonly<Record<string, unknown>>;
}

/** What the run left in the ctx fields a program may write, and the packet. */
export interface SkbOutput {
  /** The program's whole r0. */
  r0: bigint;
  /** `data .. data_end` after the run (after the Ethernet header for socket filters). */
  packet: Uint8Array;
  mark: number;
  priority: number;
  tcIndex: number;
  tcClassid: number;
  queueMapping: number;
  cb: number[];
  tstamp: bigint;
  hash: number;
  wireLen: number;
}

/** The packet of the run in progress, as the skb helpers change it. Addresses are absolute. */
export class SkbState {
  /** skb->data. */
  data = 0;
  /** skb->len (linear: all of it). */
  len = 0;
  /** Where the Ethernet header starts (skb_mac_header) and the network header (skb_network_header). */
  mac = 0;
  network = 0;
  hash = 0;
  /** Set by `bpf_redirect` (tc). */
  redirect: { ifindex: number; ingress: boolean } | null = null;
  used = 0;
  constructor(
    readonly space: AddressSpace,
    readonly ctx: Region,
    readonly buffer: Region,
    /** tc: data starts at the Ethernet header and the helpers may write. */
    readonly l2: boolean,
  ) {}

  get tail(): number {
    return this.data + this.len;
  }

  /** Writes len, data, data_end, data_meta and hash into the ctx. */
  sync(): void {
    const v = this.space.view, c = this.ctx.start;
    v.setUint32(c + SkBuff.len, this.len, true);
    v.setUint32(c + SkBuff.data, this.data, true);
    v.setUint32(c + SkBuff.dataEnd, this.tail, true);
    v.setUint32(c + SkBuff.dataMeta, this.data, true);
    v.setUint32(c + SkBuff.hash, this.hash, true);
    if (this.tail > this.used) this.used = this.tail;
  }
}

/** The skb host fields: `env.host.skb` is the run's state. */
export interface SkbHost extends RunHost {
  readonly skb: SkbState;
}

/** `eth_type_trans` on the loopback device: the packet type and `skb->protocol` (as its raw big-endian u16 read little-endian). */
export function ethTypeTrans(frame: Uint8Array): { pktType: number; protocol: number } {
  let zero = true;
  for (let i = 0; i < 6; i++) if (frame[i] !== 0) zero = false;
  // Loopback's address and broadcast address are both all zeros, so a
  // multicast destination (broadcast included) is never "broadcast" here.
  const pktType = zero ? PacketType.HOST : frame[0]! & 1 ? PacketType.MULTICAST : PacketType.OTHERHOST;
  const proto = (frame[12]! << 8) | frame[13]!;
  let be: number;
  if (proto >= 0x0600) be = proto;
  else if (frame.length >= 16 && frame[14] === 0xff && frame[15] === 0xff) be = 0x0001; // ETH_P_802_3 (raw IPX)
  else be = 0x0004; // ETH_P_802_2
  return { pktType, protocol: ((be & 0xff) << 8) | (be >> 8) };
}

/**
 * The buffer and ctx of one skb attachment point, and a run over them; the
 * tc and socket filter hooks differ only in where data starts and in what
 * the result means.
 */
export class SkbRunner {
  readonly ctx: Region;
  readonly buffer: Region;
  readonly state: SkbState;

  constructor(readonly space: AddressSpace, l2: boolean, name: string) {
    this.ctx = space.map(`${name}:__sk_buff`, 'ctx', SkBuff.size);
    this.buffer = space.map(`${name}:skb`, 'packet', SKB_HEADROOM + SKB_MAX_LEN);
    this.state = new SkbState(space, this.ctx, this.buffer, l2);
  }

  run(frame: Uint8Array, runFn: RunFn, opts: SkbRunOptions): SkbOutput {
    if (frame.length < ETH_HLEN || frame.length > SKB_MAX_FRAME) {
      throw new HookError('EFRAME', `a frame must be ${ETH_HLEN} to ${SKB_MAX_FRAME} bytes; got ${frame.length}`, { length: frame.length });
    }
    const proto = (frame[12]! << 8) | frame[13]!;
    const l3min = proto === 0x0800 ? 20 : proto === 0x86dd ? 40 : 0;
    if (frame.length < ETH_HLEN + l3min) {
      // Linux 6.18's test-run refuses an IP packet shorter than its fixed header (EINVAL).
      throw new HookError('EFRAME', `an ${l3min === 20 ? 'IPv4' : 'IPv6'} frame needs at least ${ETH_HLEN + l3min} bytes; got ${frame.length}`, { length: frame.length });
    }
    const { space, state, buffer, ctx } = this;
    const len = state.l2 ? frame.length : frame.length - ETH_HLEN;
    const wireLen = opts.wireLen ?? 0;
    if (wireLen !== 0 && (wireLen < len || wireLen > WIRE_LEN_MAX)) {
      throw new HookError('ECTXIN', `wire_len ${wireLen} must be between the packet length ${len} and ${WIRE_LEN_MAX}`, { wireLen });
    }
    if ((opts.gsoSegs ?? 0) > GSO_SEGS_MAX) throw new HookError('ECTXIN', `gso_segs ${opts.gsoSegs} is over ${GSO_SEGS_MAX}`, { gsoSegs: opts.gsoSegs });
    const ifindex = opts.ifindex ?? 0;
    if (ifindex > LOOPBACK_IFINDEX) throw new HookError('ECTXIN', `no device with ifindex ${ifindex}: only loopback (1) exists here`, { ifindex });
    const cb = opts.cb ?? [];
    if (cb.length > 5) throw new HookError('ECTXIN', `cb has 5 words; got ${cb.length}`, { cb: cb.length });

    // Zeroed as the kernel's fresh buffer: the page, and whatever the last run grew into.
    space.u8.fill(0, buffer.start, Math.min(buffer.end, Math.max(state.used, buffer.start + PAGE_SIZE)));
    space.u8.fill(0, ctx.start, ctx.end);
    state.mac = buffer.start + SKB_HEADROOM;
    state.network = state.mac + ETH_HLEN;
    put(space, state.mac, frame);
    state.data = state.l2 ? state.mac : state.network;
    state.len = len;
    state.hash = 0;
    state.redirect = null;
    state.used = state.tail;

    const v = space.view, c = ctx.start;
    const { pktType, protocol } = ethTypeTrans(frame);
    v.setUint32(c + SkBuff.pktType, pktType, true);
    v.setUint32(c + SkBuff.mark, opts.mark ?? 0, true);
    v.setUint32(c + SkBuff.protocol, protocol, true);
    v.setUint32(c + SkBuff.priority, opts.priority ?? 0, true);
    v.setUint32(c + SkBuff.ingressIfindex, opts.ingressIfindex ?? 0, true);
    v.setUint32(c + SkBuff.ifindex, LOOPBACK_IFINDEX, true);
    cb.forEach((w, k) => v.setUint32(c + SkBuff.cb + 4 * k, w >>> 0, true));
    v.setBigUint64(c + SkBuff.tstamp, BigInt.asUintN(64, opts.tstamp ?? 0n), true);
    v.setUint32(c + SkBuff.wireLen, wireLen || len, true);
    v.setUint32(c + SkBuff.gsoSegs, opts.gsoSegs ?? 0, true);
    v.setUint32(c + SkBuff.gsoSize, opts.gsoSize ?? 0, true);
    v.setBigUint64(c + SkBuff.hwtstamp, BigInt.asUintN(64, opts.hwtstamp ?? 0n), true);
    state.sync();

    const host: SkbHost = { ...opts.host, cpu: opts.cpu ?? 0, skb: state };
    const r0 = runFn([BigInt(c)], host, window(state.data, state.len));
    state.sync();

    // The kernel's fields are narrower than their __sk_buff words.
    const queueMapping = v.getUint32(c + SkBuff.queueMapping, true);
    return {
      r0,
      packet: copyOut(space, state.data, state.len),
      mark: v.getUint32(c + SkBuff.mark, true),
      priority: v.getUint32(c + SkBuff.priority, true),
      tcIndex: v.getUint32(c + SkBuff.tcIndex, true) & 0xffff,
      tcClassid: v.getUint32(c + SkBuff.tcClassid, true) & 0xffff,
      queueMapping: queueMapping >= 0xffff ? 0 : queueMapping,
      cb: [0, 1, 2, 3, 4].map((k) => v.getUint32(c + SkBuff.cb + 4 * k, true)),
      tstamp: v.getBigUint64(c + SkBuff.tstamp, true),
      hash: state.hash,
      wireLen: v.getUint32(c + SkBuff.wireLen, true),
    };
  }
}
