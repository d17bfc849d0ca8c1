/**
 * Waiting for an `EpollSet` to become ready without blocking Node's event
 * loop, in one of two ways:
 * - `'async'`: koffi's asynchronous calls. Each wait is one epoll_wait(2) on
 *   a thread of libuv's pool (which it holds while the set is idle, one of
 *   the pool's 4 threads by default; UV_THREADPOOL_SIZE raises that);
 * - `'worker'`: a dedicated worker thread that blocks in epoll_wait and
 *   posts a message (its own thread, so the pool stays free; costs a thread
 *   start of some tens of milliseconds per iteration).
 * epoll_wait is given a bounded timeout in both, and a process 'exit' hook
 * wakes every live set, so a blocked thread never holds the process up.
 */
import { Worker } from 'node:worker_threads';
import { TsbpfError } from '../errors.js';
import { EPOLL_EVENT_SIZE, type EpollSet, epollFns } from './epoll.js';
import { KernelError } from './errors.js';

export type WaitStrategy = 'async' | 'worker';
export const WAIT_STRATEGIES: readonly WaitStrategy[] = ['async', 'worker'];

/**
 * The strategy readers use when none is named: `'async'`, the faster one
 * measured here (2 vCPUs, Linux 6.18, Node 20): an eventfd ping-pong wakes
 * in 16-22 µs (p50) at 31-42 k wakes/s and 22-32 µs of CPU per wake, against
 * 19-25 µs, 28-35 k/s and 30-38 µs for `'worker'`, which also takes ~60 ms
 * to start its thread (async: 0.25 ms).
 */
export const DEFAULT_WAIT_STRATEGY: WaitStrategy = 'async';

/** How long one epoll_wait blocks at most before it is simply repeated. */
const WAIT_TIMEOUT_MS = 1000;
const EIO = 5;

export interface Waiter {
  /** Resolves true when a watched fd is ready, false once cancelled. One wait at a time. */
  wait(): Promise<boolean>;
  /** Releases the pending wait (it resolves false) and every later one. */
  cancel(): void;
  /** Cancels, waits until no thread uses the set, then closes the set. */
  close(): Promise<void>;
}

/** An unknown strategy name or a misuse of a waiter. */
export class WaitError extends TsbpfError {}

/** Cancels of every live waiter, run when the process exits. */
const live = new Set<() => void>();
let exitHooked = false;
function track(cancel: () => void): void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      for (const c of [...live]) c();
    });
  }
  live.add(cancel);
}

export function createWaiter(set: EpollSet, strategy: WaitStrategy = DEFAULT_WAIT_STRATEGY): Waiter {
  if (strategy === 'async') return new AsyncWaiter(set);
  if (strategy === 'worker') return new WorkerWaiter(set);
  throw new WaitError('EARG', `unknown wait strategy "${String(strategy)}" (known: ${WAIT_STRATEGIES.join(', ')})`, { strategy });
}

class AsyncWaiter implements Waiter {
  #set: EpollSet;
  #cancelled = false;
  #inflight: Promise<number> | null = null;
  #events = new Uint8Array(EPOLL_EVENT_SIZE * 8);
  #cancel = (): void => this.cancel();

  constructor(set: EpollSet) {
    this.#set = set;
    track(this.#cancel);
  }

  #call(): Promise<number> {
    const f = epollFns();
    const p = new Promise<number>((resolve, reject) => {
      f.wait.async(this.#set.epfd, this.#events, 8, WAIT_TIMEOUT_MS, (err, n) => {
        this.#inflight = null;
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve(n);
      });
    });
    this.#inflight = p;
    return p;
  }

  async wait(): Promise<boolean> {
    if (this.#inflight) throw new WaitError('EBUSY', 'a wait is already pending on this set', {});
    while (!this.#cancelled) {
      const n = await this.#call();
      if (this.#cancelled) return false;
      if (n > 0) return true;
      // The errno of a call made on another thread is not ours to read (libuv's threads block signals: no EINTR).
      if (n < 0) throw new KernelError('epoll_wait', EIO, '', `epoll fd ${this.#set.epfd} (async call)`);
    }
    return false;
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#set.wake();
  }

  async close(): Promise<void> {
    this.cancel();
    const p = this.#inflight;
    if (p) await p.catch(() => 0);
    live.delete(this.#cancel);
    this.#set.close();
  }
}

/** Slots of the worker's control array (see epoll-worker.ts). */
const ARM = 0;
const STOP = 1;
const READY = 2;
/** What `READY` holds while nothing is ready, and once the waiter stopped. */
const NOT_READY = 0;
const STOPPED = 0x7fff_ffff;

/** The parent's Node options minus those that only make sense for a main script. */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--input-type') k++;
    else if (!argv[k]!.startsWith('--input-type=')) out.push(argv[k]!);
  }
  return out;
}

/** `Atomics.waitAsync` (Node 16+; in the ES2024 library, newer than this project's). */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

class WorkerWaiter implements Waiter {
  #set: EpollSet;
  #worker: Worker;
  #ctl = new Int32Array(new SharedArrayBuffer(12));
  #failure: unknown = null;
  #cancelled = false;
  #busy = false;
  #exited: Promise<void>;
  #cancel = (): void => this.cancel();

  constructor(set: EpollSet) {
    this.#set = set;
    this.#worker = new Worker(new URL('./epoll-worker.js', import.meta.url), {
      workerData: { tsbpfEpoll: true, epfd: set.epfd, ctl: this.#ctl.buffer, timeoutMs: WAIT_TIMEOUT_MS, eventSize: EPOLL_EVENT_SIZE },
      // --input-type (a `node -e` parent) would make the worker's file fail to load
      execArgv: workerExecArgv(),
    });
    this.#worker.unref();
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.on('error', (e) => this.#fail(e));
    this.#worker.once('exit', () => {
      if (!this.#cancelled) this.#fail(new WaitError('EWORKER', 'the epoll worker thread ended unexpectedly', {}));
    });
    track(this.#cancel);
  }

  #fail(e: unknown): void {
    this.#failure ??= e;
    this.#release();
  }

  /** Ends a pending wait. */
  #release(): void {
    Atomics.store(this.#ctl, READY, STOPPED);
    Atomics.notify(this.#ctl, READY);
  }

  async wait(): Promise<boolean> {
    if (this.#cancelled) return false;
    if (this.#failure) throw this.#failure;
    if (this.#busy) throw new WaitError('EBUSY', 'a wait is already pending on this set', {});
    this.#busy = true;
    // READY is cleared before the worker is armed, so its answer cannot be lost.
    Atomics.store(this.#ctl, READY, NOT_READY);
    Atomics.store(this.#ctl, ARM, 1);
    Atomics.notify(this.#ctl, ARM);
    this.#worker.ref();
    try {
      const w = waitAsync(this.#ctl, READY, NOT_READY);
      if (w.async) await w.value;
    } finally {
      this.#worker.unref();
      this.#busy = false;
    }
    const n = Atomics.load(this.#ctl, READY);
    if (this.#cancelled) return false;
    if (this.#failure) throw this.#failure;
    if (n < 0) {
      this.#fail(new KernelError('epoll_wait', -n, '', `epoll fd ${this.#set.epfd} (worker)`));
      throw this.#failure;
    }
    return true;
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    Atomics.store(this.#ctl, STOP, 1);
    Atomics.store(this.#ctl, ARM, 1);
    Atomics.notify(this.#ctl, ARM);
    this.#set.wake();
    this.#release();
  }

  async close(): Promise<void> {
    this.cancel();
    this.#worker.ref();
    await this.#exited;
    live.delete(this.#cancel);
    this.#set.close();
  }
}
