/**
 * epoll(7) and eventfd(2) through libc: the readiness side of the readers.
 * An `EpollSet` owns an epoll fd watching some fds for input, plus an
 * eventfd that `wake()` makes readable, so that a thread blocked in
 * epoll_wait on the set can be released at any time (cancel, close, exit).
 */
import { KernelError } from './errors.js';
import { type Ffi, closeFd, loadFfi } from './syscall.js';

const EPOLL_CLOEXEC = 0x80000;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 0x1;
const EFD_CLOEXEC = 0x80000;
const EFD_NONBLOCK = 0x800;
/** `struct epoll_event` is packed on x86-64 (12 bytes), naturally aligned elsewhere (16). */
export const EPOLL_EVENT_SIZE = process.arch === 'x64' ? 12 : 16;

type AsyncCallback = (err: unknown, res: number) => void;
export interface EpollFns {
  koffi: Ffi['koffi'];
  create: (flags: number) => number;
  ctl: (epfd: number, op: number, fd: number, ev: Uint8Array) => number;
  wait: ((epfd: number, events: Uint8Array, max: number, timeout: number) => number) & {
    async: (epfd: number, events: Uint8Array, max: number, timeout: number, cb: AsyncCallback) => void;
  };
  eventfd: (init: number, flags: number) => number;
  write: (fd: number, buf: Uint8Array, len: number) => number | bigint;
}

let fns: EpollFns | undefined;

/** The libc functions, declared on first use. */
export function epollFns(): EpollFns {
  if (fns) return fns;
  const { koffi, libc } = loadFfi();
  fns = {
    koffi,
    create: libc.func('int epoll_create1(int)') as EpollFns['create'],
    ctl: libc.func('int epoll_ctl(int, int, int, void *)') as EpollFns['ctl'],
    wait: libc.func('int epoll_wait(int, void *, int, int)') as unknown as EpollFns['wait'],
    eventfd: libc.func('int eventfd(unsigned int, int)') as EpollFns['eventfd'],
    write: libc.func('long write(int, void *, size_t)') as EpollFns['write'],
  };
  return fns;
}

const ONE = new Uint8Array(new BigUint64Array([1n]).buffer);

/**
 * An epoll fd watching `fds` for EPOLLIN (level-triggered), plus its wake
 * eventfd. Owns both fds; `close()` closes them.
 */
export class EpollSet {
  readonly epfd: number;
  readonly wakeFd: number;
  #closed = false;

  constructor(fds: readonly number[]) {
    const f = epollFns();
    const epfd = f.create(EPOLL_CLOEXEC);
    if (epfd < 0) throw new KernelError('epoll_create1', f.koffi.errno());
    let wakeFd = -1;
    try {
      wakeFd = f.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (wakeFd < 0) throw new KernelError('eventfd', f.koffi.errno());
      const ev = new Uint8Array(EPOLL_EVENT_SIZE);
      const v = new DataView(ev.buffer);
      [...fds, wakeFd].forEach((fd, k) => {
        v.setUint32(0, EPOLLIN, true);
        v.setUint32(EPOLL_EVENT_SIZE - 8, k, true);
        if (f.ctl(epfd, EPOLL_CTL_ADD, fd, ev) < 0) throw new KernelError('epoll_ctl', f.koffi.errno(), '', `adding fd ${fd}`);
      });
    } catch (e) {
      if (wakeFd >= 0) closeFd(wakeFd);
      closeFd(epfd);
      throw e;
    }
    this.epfd = epfd;
    this.wakeFd = wakeFd;
  }

  /** Makes the set ready for good (the eventfd is never drained), releasing any waiter. */
  wake(): void {
    if (!this.#closed) epollFns().write(this.wakeFd, ONE, 8);
  }

  /** Closes both fds. Nothing may be waiting on the set any more. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.wakeFd);
    closeFd(this.epfd);
  }
}
