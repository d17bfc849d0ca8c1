/**
 * The body of the `worker` wait strategy (event-wait.ts): a worker thread
 * that blocks in epoll_wait(2) on an epoll fd of its parent, and tells the
 * parent when the set is ready. Protocol over a shared Int32Array:
 * - `ARM` (slot 0): the parent sets it to 1 to ask for one wait; the worker
 *   clears it, then stores the number of ready fds (or -errno) in `READY`
 *   (slot 2) and notifies it; the parent waits there with Atomics.waitAsync.
 * - `STOP` (slot 1): the parent sets it (and wakes the set's eventfd) to end
 *   the thread; the worker then returns, leaving every fd to the parent.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

export const ARM = 0;
export const STOP = 1;
export const READY = 2;
const EINTR = 4;

interface Data {
  epfd: number;
  ctl: SharedArrayBuffer;
  timeoutMs: number;
  eventSize: number;
}

function run(data: Data): void {
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const libc = koffi.load('libc.so.6');
  const epollWait = libc.func('int epoll_wait(int, void *, int, int)') as (epfd: number, ev: Uint8Array, max: number, timeout: number) => number;
  const ctl = new Int32Array(data.ctl);
  const events = new Uint8Array(data.eventSize * 8);
  for (;;) {
    Atomics.wait(ctl, ARM, 0);
    if (Atomics.load(ctl, STOP)) return;
    const n = epollWait(data.epfd, events, 8, data.timeoutMs);
    if (Atomics.load(ctl, STOP)) return;
    if (n === 0) continue;
    if (n < 0) {
      const errno = koffi.errno();
      if (errno === EINTR) continue;
      Atomics.store(ctl, READY, -errno);
      Atomics.notify(ctl, READY);
      return;
    }
    Atomics.store(ctl, ARM, 0);
    Atomics.store(ctl, READY, n);
    Atomics.notify(ctl, READY);
  }
}

if (parentPort && workerData && (workerData as { tsbpfEpoll?: boolean }).tsbpfEpoll) run(workerData as Data);
