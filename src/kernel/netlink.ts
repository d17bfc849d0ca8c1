/**
 * A minimal rtnetlink client: enough to attach XDP through RTM_SETLINK
 * (IFLA_XDP) and tc programs through a clsact qdisc and a `bpf` filter.
 * The socket belongs to the network namespace it was opened in, so an
 * attachment that keeps its socket can be detached from anywhere.
 */
import { TsbpfError } from '../errors.js';
import { KernelError } from './errors.js';
import { closeFd } from './syscall.js';
import { AF_NETLINK, SOCK_RAW, bind, recv, sendto, setReceiveTimeout, setsockoptInt, socket } from './socket.js';

const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_ECHO = 0x8;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
const NLM_F_ACK_TLVS = 0x200;
const NLA_F_NESTED = 0x8000;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSGERR_ATTR_MSG = 1;

/** rtnetlink message types used here. */
export const Rtm = {
  SETLINK: 19,
  NEWQDISC: 36,
  DELQDISC: 37,
  NEWTFILTER: 44,
  DELTFILTER: 45,
} as const;

const RTM_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Rtm).map(([k, v]) => [v, `RTM_${k}`]));

/** One netlink attribute (type, payload); `nested` sets NLA_F_NESTED. */
export interface NlAttr {
  type: number;
  data: Uint8Array;
}

const align4 = (n: number): number => (n + 3) & ~3;

export function attr(type: number, data: Uint8Array): NlAttr {
  return { type, data };
}
export function attrU32(type: number, value: number): NlAttr {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, true);
  return { type, data: b };
}
export function attrS32(type: number, value: number): NlAttr {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  return { type, data: b };
}
export function attrStr(type: number, value: string): NlAttr {
  return { type, data: new TextEncoder().encode(value + '\0') };
}
export function nested(type: number, attrs: readonly NlAttr[]): NlAttr {
  return { type: type | NLA_F_NESTED, data: encodeAttrs(attrs) };
}

export function encodeAttrs(attrs: readonly NlAttr[]): Uint8Array {
  const out = new Uint8Array(attrs.reduce((n, a) => n + align4(4 + a.data.byteLength), 0));
  const v = new DataView(out.buffer);
  let at = 0;
  for (const a of attrs) {
    v.setUint16(at, 4 + a.data.byteLength, true);
    v.setUint16(at + 2, a.type, true);
    out.set(a.data, at + 4);
    at += align4(4 + a.data.byteLength);
  }
  return out;
}

/** Attributes of a message body or nested attribute, by type (without the flag bits). */
export function decodeAttrs(bytes: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 4 <= bytes.byteLength) {
    const len = v.getUint16(at, true);
    if (len < 4 || at + len > bytes.byteLength) break;
    out.set(v.getUint16(at + 2, true) & 0x3fff, bytes.subarray(at + 4, at + len));
    at += align4(len);
  }
  return out;
}

/** One message of a reply: its type and body (after the 16-byte header). */
export interface NlMessage {
  type: number;
  flags: number;
  body: Uint8Array;
}

/** An rtnetlink socket. `close()` (or `using`) closes it. */
export class RtNetlink implements Disposable {
  #fd: number;
  #seq = Math.floor(Math.random() * 0x7fffffff);

  constructor(timeoutMs = 5000) {
    const fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    try {
      // Best effort: error strings (extended ack) and acks without the request echoed back.
      try {
        setsockoptInt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
        setsockoptInt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
      } catch {
        /* older kernels: plain errors */
      }
      setReceiveTimeout(fd, timeoutMs);
      const sa = new Uint8Array(12);
      new DataView(sa.buffer).setUint16(0, AF_NETLINK, true);
      bind(fd, sa);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    this.#fd = fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * Sends one request (`NLM_F_REQUEST | NLM_F_ACK | flags`) with a fixed
   * header `head` and attributes; returns the messages the kernel sent
   * before its ack. A negative ack throws a `KernelError` whose detail is
   * the kernel's extended-ack message, if any.
   */
  request(type: number, flags: number, head: Uint8Array, attrs: readonly NlAttr[] = [], what = ''): NlMessage[] {
    if (this.#fd < 0) throw new TsbpfError('ECLOSED', 'the netlink socket has been closed', {});
    const body = encodeAttrs(attrs);
    const msg = new Uint8Array(16 + align4(head.byteLength) + body.byteLength);
    const v = new DataView(msg.buffer);
    const seq = (this.#seq = (this.#seq + 1) & 0x7fffffff);
    v.setUint32(0, msg.byteLength, true);
    v.setUint16(4, type, true);
    v.setUint16(6, NLM_F_REQUEST | NLM_F_ACK | flags, true);
    v.setUint32(8, seq, true);
    msg.set(head, 16);
    msg.set(body, 16 + align4(head.byteLength));
    const dest = new Uint8Array(12);
    new DataView(dest.buffer).setUint16(0, AF_NETLINK, true);
    sendto(this.#fd, msg, dest);

    const command = `netlink ${RTM_NAMES[type] ?? `type ${type}`}`;
    const replies: NlMessage[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = recv(this.#fd, buf);
      if (n < 0) throw new KernelError(command, 62 /* ETIME */, '', `no reply from the kernel${what ? ` (${what})` : ''}`);
      const rv = new DataView(buf.buffer, 0, n);
      for (let at = 0; at + 16 <= n; ) {
        const len = rv.getUint32(at, true);
        if (len < 16 || at + len > n) break;
        const mtype = rv.getUint16(at + 4, true);
        const mflags = rv.getUint16(at + 6, true);
        const mseq = rv.getUint32(at + 8, true);
        const mbody = buf.slice(at + 16, at + len);
        at += align4(len);
        if (mseq !== seq) continue;
        if (mtype === NLMSG_DONE) return replies;
        if (mtype === NLMSG_ERROR) {
          const err = new DataView(mbody.buffer).getInt32(0, true);
          if (err === 0) return replies;
          throw new KernelError(command, -err, '', [what, extackMessage(mbody, mflags)].filter(Boolean).join(': ') || undefined);
        }
        replies.push({ type: mtype, flags: mflags, body: mbody });
      }
    }
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The NLMSGERR_ATTR_MSG string of an error message, if the kernel sent one. */
function extackMessage(body: Uint8Array, flags: number): string {
  if (!(flags & NLM_F_ACK_TLVS) || body.byteLength < 20) return '';
  // error (4) + the request's header (16), and its payload unless the ack was capped.
  const origLen = new DataView(body.buffer, body.byteOffset).getUint32(4, true);
  const capped = (flags & 0x100) !== 0;
  const tlvAt = 4 + (capped ? 16 : align4(origLen));
  if (tlvAt > body.byteLength) return '';
  const msg = decodeAttrs(body.subarray(tlvAt)).get(NLMSGERR_ATTR_MSG);
  if (!msg) return '';
  const end = msg.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? msg.subarray(0, end) : msg);
}

/** `struct ifinfomsg` for a device. */
export function ifinfomsg(ifindex: number): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setInt32(4, ifindex, true);
  return b;
}

/** `struct tcmsg`. */
export function tcmsg(ifindex: number, handle: number, parent: number, info: number): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setInt32(4, ifindex, true);
  v.setUint32(8, handle >>> 0, true);
  v.setUint32(12, parent >>> 0, true);
  v.setUint32(16, info >>> 0, true);
  return b;
}

/** Reads the handle, parent and info of a `struct tcmsg` body. */
export function readTcmsg(body: Uint8Array): { ifindex: number; handle: number; parent: number; info: number } {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { ifindex: v.getInt32(4, true), handle: v.getUint32(8, true), parent: v.getUint32(12, true), info: v.getUint32(16, true) };
}
