/**
 * The async iteration shared by the readers (ring buffer, perf event
 * array): drain what is there, then wait on epoll for more without blocking
 * the event loop, until the signal aborts or the reader closes.
 */
import { EpollSet } from './epoll.js';
import { type WaitStrategy, createWaiter } from './event-wait.js';

export interface EventsOptions {
  /** Ends the iteration (quietly) when aborted. */
  signal?: AbortSignal;
  /** How to wait without blocking the event loop (default `DEFAULT_WAIT_STRATEGY`). */
  strategy?: WaitStrategy;
  /** Most records taken from the ring per read (default 1024). Records taken but not yet yielded are dropped when the iteration ends early. */
  batch?: number;
}

/** What a reader gives the iteration. */
export interface EventSource<T> {
  readonly closed: boolean;
  read(limit: number): T[];
  /** The fds that become readable when there is something to read. */
  pollFds(): number[];
}

/**
 * Iterates `src` one batch (a non-empty array of what one read returned) at
 * a time. `stops` is the reader's set of live iterations: the reader's
 * close() calls each entry, which ends that iteration.
 */
export async function* pollBatches<T>(src: EventSource<T>, stops: Set<() => void>, opts: EventsOptions = {}): AsyncGenerator<T[], void, undefined> {
  const { signal } = opts;
  const batch = opts.batch ?? 1024;
  if (signal?.aborted || src.closed) return;
  const waiter = createWaiter(new EpollSet(src.pollFds()), opts.strategy);
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    waiter.cancel();
  };
  signal?.addEventListener('abort', stop, { once: true });
  stops.add(stop);
  try {
    for (;;) {
      if (stopped || src.closed) return;
      const recs = src.read(batch);
      if (recs.length > 0) {
        yield recs;
        continue;
      }
      if (!(await waiter.wait())) return;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    stops.delete(stop);
    await waiter.close();
  }
}

/** Iterates `src` one record at a time (see `pollBatches`). */
export async function* pollEvents<T>(src: EventSource<T>, stops: Set<() => void>, opts: EventsOptions = {}): AsyncGenerator<T, void, undefined> {
  const { signal } = opts;
  for await (const recs of pollBatches(src, stops, opts)) {
    for (const r of recs) {
      yield r;
      if (signal?.aborted || src.closed) return;
    }
  }
}
