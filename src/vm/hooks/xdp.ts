/**
 * XDP: a program sees a frame through `struct xdp_md` exactly as Linux's
 * BPF_PROG_TEST_RUN shows it: the frame in a 4096-byte page after 256 bytes
 * of headroom (XDP_PACKET_HEADROOM), the last 320 bytes of the page kept for
 * `skb_shared_info`, ingress on the loopback device (ifindex 1), queue 0.
 *
 * Frames the program sends (XDP_TX, XDP_REDIRECT to a target) are kept in
 * `transmitted`.
 */
import type { AddressSpace, Region } from '../address-space.js';
import type { HelperDef, RunHost } from '../helpers.js';
import { writePcap, type WritePcapOptions } from '../../pcap/index.js';
import { ETH_HLEN, HookError, LOOPBACK_IFINDEX, PAGE_SIZE, SHINFO_SIZE, copyOut, put, type RunFn } from './common.js';
import { xdpHelpers } from './xdp-helpers.js';
import { XDP_HELPERS } from './allowed.js';

/** XDP_PACKET_HEADROOM. */
export const XDP_HEADROOM = 256;
/** The longest frame a test-run keeps in one buffer (longer ones become fragments there). */
export const XDP_MAX_FRAME = PAGE_SIZE - XDP_HEADROOM - SHINFO_SIZE;
/** `sizeof(struct xdp_frame)`: the start of the page that `adjust_head`/`adjust_meta` must leave alone. */
export const XDP_FRAME_SIZE = 40;
/**
 * Most metadata bytes before the frame: `skb_shared_info.meta_len` is a u8
 * and the length a multiple of 4 (Linux 6.x; older kernels allowed 32).
 */
export const XDP_META_MAX = 252;

/** `struct xdp_md` offsets. */
export const XdpMd = { data: 0, dataEnd: 4, dataMeta: 8, ingressIfindex: 12, rxQueueIndex: 16, egressIfindex: 20, size: 24 } as const;

export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
export type XdpActionName = 'XDP_ABORTED' | 'XDP_DROP' | 'XDP_PASS' | 'XDP_TX' | 'XDP_REDIRECT' | `UNKNOWN(${number})`;
const ACTION_NAMES: readonly XdpActionName[] = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'];

export function xdpActionName(action: number): XdpActionName {
  return ACTION_NAMES[action] ?? `UNKNOWN(${action})`;
}

/** Where `bpf_redirect` / `bpf_redirect_map` sent the frame. */
export type XdpRedirect =
  | { readonly kind: 'ifindex'; readonly ifindex: number }
  | {
      readonly kind: 'map';
      /** The map pointer the program passed (what the collection resolves). */
      readonly map: bigint;
      readonly mapType: number;
      readonly key: number;
      readonly broadcast: boolean;
      readonly excludeIngress: boolean;
    };

/** What `bpf_redirect_map` needs to know about a map: its type and whether a key is present. */
export interface RedirectMapInfo {
  /** `enum bpf_map_type` (DEVMAP 14, CPUMAP 16, XSKMAP 17, DEVMAP_HASH 25). */
  readonly type: number;
  has(key: number): boolean;
}
/** Finds the map behind the pointer a program passed to `bpf_redirect_map`. */
export type RedirectMapResolver = (map: bigint) => RedirectMapInfo | null;

export interface XdpHookOptions {
  /** How `bpf_redirect_map` sees maps; without it every key of every map is a devmap entry. */
  redirectMap?: RedirectMapResolver;
  /** How many sent frames `transmitted` keeps (the oldest are dropped first); 1024 unless said, 0 keeps none. */
  capture?: number;
}

export interface XdpRunOptions {
  /** Metadata in front of the frame (a multiple of 4, at most 216 bytes: the headroom less `struct xdp_frame`): the kernel's `xdp_md.data` offset. */
  meta?: Uint8Array;
  /** `ingress_ifindex` (the kernel's test-run: 1, loopback). */
  ingressIfindex?: number;
  /** `rx_queue_index` (0 unless said). */
  rxQueueIndex?: number;
  /** The virtual CPU of the run. */
  cpu?: number;
  /** When the frame arrived (ns since the epoch), for the capture of what it sends; now unless said. */
  tsNs?: bigint;
  /** More fields for `env.host` (printk, task, maps...). */
  host?: Readonly<Record<string, unknown>>;
}

export interface XdpResult {
  action: number;
  actionName: XdpActionName;
  /** The program's whole r0. */
  r0: bigint;
  /** `data .. data_end` after the run. */
  packet: Uint8Array;
  /** `data_meta .. data` after the run (the kernel's test-run output starts with it). */
  meta: Uint8Array;
  /** Set when the action is XDP_REDIRECT and a helper chose where to. */
  redirect?: XdpRedirect;
}

export interface XdpTransmit {
  readonly action: 'XDP_TX' | 'XDP_REDIRECT';
  readonly packet: Uint8Array;
  /** XDP_TX: the device it came in on. */
  readonly ifindex?: number;
  readonly redirect?: XdpRedirect;
  /** When the frame was sent (ns since the epoch). */
  readonly tsNs: bigint;
}

/** The frame of the run in progress, as the XDP helpers change it. Addresses are absolute. */
export class XdpState {
  data = 0;
  dataEnd = 0;
  dataMeta = 0;
  redirect: XdpRedirect | null = null;
  constructor(
    readonly space: AddressSpace,
    readonly ctx: Region,
    readonly buffer: Region,
    readonly resolveMap: RedirectMapResolver | undefined,
  ) {}

  /** `data_hard_start`. */
  get hardStart(): number {
    return this.buffer.start;
  }
  /** `xdp_data_hard_end`: where the tail may grow to. */
  get hardEnd(): number {
    return this.buffer.start + PAGE_SIZE - SHINFO_SIZE;
  }

  /** Writes data, data_end and data_meta into the ctx, as the kernel's rewritten loads would read them. */
  sync(): void {
    const v = this.space.view, c = this.ctx.start;
    v.setUint32(c + XdpMd.data, this.data, true);
    v.setUint32(c + XdpMd.dataEnd, this.dataEnd, true);
    v.setUint32(c + XdpMd.dataMeta, this.dataMeta, true);
  }
}

/** The XDP host fields: `env.host.xdp` is the run's state. */
export interface XdpHost extends RunHost {
  readonly xdp: XdpState;
}

const EMPTY = new Uint8Array(0);

/**
 * An XDP attachment point in one address space. Its ctx and page are mapped
 * once; every `run` reuses them.
 */
export class XdpHook {
  static readonly allowedHelpers: readonly number[] = XDP_HELPERS;
  readonly ctx: Region;
  readonly buffer: Region;
  readonly transmitted: XdpTransmit[] = [];
  private readonly state: XdpState;
  private readonly capture: number;

  constructor(readonly space: AddressSpace, opts: XdpHookOptions = {}) {
    // Programs cannot write xdp_md (the verifier refuses); helpers update it.
    this.ctx = space.map('xdp_md', 'ctx', XdpMd.size, false);
    this.buffer = space.map('xdp-page', 'packet', PAGE_SIZE);
    this.state = new XdpState(space, this.ctx, this.buffer, opts.redirectMap);
    this.capture = opts.capture ?? 1024;
  }

  /** The packet helpers XDP programs call (register them with the common ones). */
  helpers(): HelperDef[] {
    return xdpHelpers();
  }

  run(frame: Uint8Array, runFn: RunFn, opts: XdpRunOptions = {}): XdpResult {
    const meta = opts.meta ?? EMPTY;
    if (meta.length % 4 !== 0 || meta.length > XDP_HEADROOM - XDP_FRAME_SIZE) {
      throw new HookError('ECTXIN', `XDP metadata given in must be a multiple of 4 bytes, at most ${XDP_HEADROOM - XDP_FRAME_SIZE}; got ${meta.length}`, { meta: meta.length });
    }
    if (frame.length < ETH_HLEN) {
      throw new HookError('EFRAME', `an XDP frame needs at least ${ETH_HLEN} bytes; got ${frame.length}`, { length: frame.length });
    }
    if (frame.length > XDP_MAX_FRAME) {
      throw new HookError('EFRAME', `an XDP frame of ${frame.length} bytes does not fit one ${PAGE_SIZE}-byte page (at most ${XDP_MAX_FRAME}); fragments are not supported`, { length: frame.length });
    }
    const { space, state, buffer } = this;
    const rxQueue = opts.rxQueueIndex ?? 0;
    const ifindex = opts.ingressIfindex ?? LOOPBACK_IFINDEX;
    space.u8.fill(0, buffer.start, buffer.end); // a fresh zeroed page, as the kernel allocates one
    const data = buffer.start + XDP_HEADROOM;
    put(space, data - meta.length, meta);
    put(space, data, frame);
    state.data = data;
    state.dataMeta = data - meta.length;
    state.dataEnd = data + frame.length;
    state.redirect = null;
    const v = space.view, c = this.ctx.start;
    v.setUint32(c + XdpMd.ingressIfindex, ifindex >>> 0, true);
    v.setUint32(c + XdpMd.rxQueueIndex, rxQueue >>> 0, true);
    v.setUint32(c + XdpMd.egressIfindex, 0, true);
    state.sync();

    const host: XdpHost = { ...opts.host, cpu: opts.cpu ?? 0, xdp: state };
    const r0 = runFn([BigInt(c)], host);
    state.sync();

    const action = Number(r0 & 0xffffffffn);
    const packet = copyOut(space, state.data, state.dataEnd - state.data);
    const result: XdpResult = {
      action,
      actionName: xdpActionName(action),
      r0,
      packet,
      meta: copyOut(space, state.dataMeta, state.data - state.dataMeta),
    };
    if (action === XdpAction.REDIRECT && state.redirect !== null) result.redirect = state.redirect;
    if (this.capture > 0 && (action === XdpAction.TX || result.redirect)) {
      const tsNs = opts.tsNs ?? BigInt(Date.now()) * 1_000_000n;
      this.keep(action === XdpAction.TX
        ? { action: 'XDP_TX', packet: packet.slice(), ifindex, tsNs }
        : { action: 'XDP_REDIRECT', packet: packet.slice(), redirect: result.redirect!, tsNs });
    }
    return result;
  }

  /** Returns the sent frames kept so far and forgets them. */
  takeTransmitted(): XdpTransmit[] {
    return this.transmitted.splice(0);
  }

  /** The sent frames kept so far as a pcap file (Ethernet). */
  pcap(opts: WritePcapOptions = {}): Uint8Array {
    return writePcap(this.transmitted.map((t) => ({ data: t.packet, tsNs: t.tsNs })), opts);
  }

  private keep(t: XdpTransmit): void {
    if (this.transmitted.length >= this.capture) this.transmitted.shift();
    this.transmitted.push(t);
  }
}
