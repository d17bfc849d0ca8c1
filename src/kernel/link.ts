/**
 * `Link`: one attachment of a program to a hook. Closing it detaches the
 * program. Most links are kernel `bpf_link` objects (an fd from
 * BPF_LINK_CREATE or BPF_RAW_TRACEPOINT_OPEN) that can be pinned to bpffs and
 * outlive the process; attachments without a link fd (netlink XDP, socket
 * filters, perf-event ioctls) are Links with a `detach` callback instead.
 */
import { TsbpfError } from '../errors.js';
import { BpfCommand } from './constants.js';
import { KernelError } from './errors.js';
import { addressOf, bpf, bpfRaw, closeFd } from './syscall.js';
import { getInfoByFd } from './info.js';

/** `enum bpf_link_type`. */
export const LinkType = {
  UNSPEC: 0,
  RAW_TRACEPOINT: 1,
  TRACING: 2,
  CGROUP: 3,
  ITER: 4,
  NETNS: 5,
  XDP: 6,
  PERF_EVENT: 7,
  KPROBE_MULTI: 8,
  STRUCT_OPS: 9,
  NETFILTER: 10,
  TCX: 11,
  UPROBE_MULTI: 12,
  NETKIT: 13,
  SOCKMAP: 14,
} as const;

/** The name of a `bpf_link_type` number (`XDP`), or `LINK_TYPE(n)`. */
export function linkTypeName(type: number): string {
  for (const [name, value] of Object.entries(LinkType)) if (value === type) return name;
  return `LINK_TYPE(${type})`;
}

/** What BPF_OBJ_GET_INFO_BY_FD says about a bpf_link. */
export interface LinkInfo {
  type: number;
  typeName: string;
  id: number;
  progId: number;
  /** The device, for XDP, tcx and netkit links. */
  ifindex?: number;
  /** `attach_type`, for tcx, netkit, netns and cgroup links. */
  attachType?: number;
  /** The raw type-specific part (the union after `prog_id`). */
  raw: Uint8Array;
}

export interface LinkOptions {
  /**
   * Runs on `close()` before the fd (if any) is closed: detaches what the
   * kernel does not detach by itself (netlink XDP, SO_DETACH_BPF...) or
   * closes helper fds (a perf event under a perf link).
   */
  detach?: () => void;
  /** False for fds that are not bpf_links (perf events): `pin()` then refuses. Default: true when there is an fd. */
  pinnable?: boolean;
}

const INFO_SIZE = 256;

/**
 * An attachment. `close()` (or `using`) detaches it; closing twice does
 * nothing. `pin(path)` keeps a bpf_link alive in bpffs after the process
 * exits; `Link.fromPin(path)` opens it again.
 */
export class Link implements Disposable {
  /** What it attaches (`xdp`, `tcx`, `socket_filter`, `tracepoint`...). */
  readonly kind: string;
  #fd: number;
  #closed = false;
  #detach: (() => void) | undefined;
  readonly #pinnable: boolean;

  /** `fd` is a bpf_link (or other) fd this Link now owns, or -1 for an attachment without one. */
  constructor(fd: number, kind = 'link', opts: LinkOptions = {}) {
    this.#fd = fd;
    this.kind = kind;
    this.#detach = opts.detach;
    this.#pinnable = opts.pinnable ?? fd >= 0;
  }

  /** An attachment with no fd of its own, detached by `detach` on close. */
  static withoutFd(kind: string, detach: () => void): Link {
    return new Link(-1, kind, { detach, pinnable: false });
  }

  /** Opens a bpf_link pinned at `path` (BPF_OBJ_GET). */
  static fromPin(path: string, kind = 'pinned'): Link {
    const name = new TextEncoder().encode(path + '\0');
    const attr = new Uint8Array(24);
    new DataView(attr.buffer).setBigUint64(0, addressOf(name), true);
    const ret = bpfRaw(BpfCommand.BPF_OBJ_GET, attr);
    if (ret < 0) throw new KernelError('BPF_OBJ_GET', -ret, '', path);
    return new Link(ret, kind);
  }

  /** BPF_OBJ_GET_INFO_BY_FD on a bpf_link fd. */
  static info(fd: number): LinkInfo {
    const info = new Uint8Array(INFO_SIZE);
    getInfoByFd(fd, info, 'link');
    const v = new DataView(info.buffer);
    const type = v.getUint32(0, true);
    const out: LinkInfo = {
      type,
      typeName: linkTypeName(type),
      id: v.getUint32(4, true),
      progId: v.getUint32(8, true),
      raw: info.slice(16),
    };
    if (type === LinkType.XDP) out.ifindex = v.getUint32(16, true);
    if (type === LinkType.TCX || type === LinkType.NETKIT) {
      out.ifindex = v.getUint32(16, true);
      out.attachType = v.getUint32(20, true);
    }
    if (type === LinkType.NETNS) out.attachType = v.getUint32(20, true);
    if (type === LinkType.CGROUP) out.attachType = v.getUint32(24, true);
    return out;
  }

  /** The fd; throws once closed, or when the attachment has none. */
  get fd(): number {
    if (this.#closed) throw new TsbpfError('ECLOSED', `the ${this.kind} link has been closed`, { link: this.kind });
    if (this.#fd < 0) throw new TsbpfError('ENOLINKFD', `the ${this.kind} attachment has no link fd`, { link: this.kind });
    return this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True when this is a bpf_link that `pin()` can pin. */
  get pinnable(): boolean {
    return this.#pinnable && !this.#closed;
  }

  /** What the kernel says about the link. */
  info(): LinkInfo {
    return Link.info(this.fd);
  }

  /** Pins the bpf_link at `path` in bpffs (BPF_OBJ_PIN): the attachment then outlives this fd. */
  pin(path: string): void {
    if (!this.#pinnable) {
      throw new TsbpfError('ENOTPINNABLE', `the ${this.kind} attachment is not a bpf_link and cannot be pinned`, { link: this.kind, path });
    }
    const name = new TextEncoder().encode(path + '\0');
    const attr = new Uint8Array(24);
    const a = new DataView(attr.buffer);
    a.setBigUint64(0, addressOf(name), true);
    a.setUint32(8, this.fd, true);
    const ret = bpfRaw(BpfCommand.BPF_OBJ_PIN, attr);
    if (ret < 0) throw new KernelError('BPF_OBJ_PIN', -ret, '', path);
  }

  /**
   * Detaches the program now (BPF_LINK_DETACH), even if the link is pinned
   * or its fd shared; the fd stays open until `close()`.
   */
  detachNow(): void {
    const attr = new Uint8Array(8);
    new DataView(attr.buffer).setUint32(0, this.fd, true);
    bpf(BpfCommand.BPF_LINK_DETACH, attr);
  }

  /**
   * Replaces the program behind the link (BPF_LINK_UPDATE); with
   * `oldProgFd`, only if that is the current one.
   */
  update(progFd: number, oldProgFd?: number): void {
    const attr = new Uint8Array(16);
    const a = new DataView(attr.buffer);
    a.setUint32(0, this.fd, true);
    a.setUint32(4, progFd, true);
    if (oldProgFd !== undefined) {
      a.setUint32(8, 1 /* BPF_F_REPLACE */, true);
      a.setUint32(12, oldProgFd, true);
    }
    bpf(BpfCommand.BPF_LINK_UPDATE, attr);
  }

  /** Detaches (runs `detach`, closes the fd). Closing twice does nothing; the first error is thrown after both steps ran. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    let first: unknown = null;
    const detach = this.#detach;
    this.#detach = undefined;
    if (detach) {
      try {
        detach();
      } catch (e) {
        first = e;
      }
    }
    if (this.#fd >= 0) {
      const fd = this.#fd;
      this.#fd = -1;
      try {
        closeFd(fd);
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== null) throw first;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
