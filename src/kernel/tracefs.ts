/**
 * tracefs: where tracepoint ids live (`events/<category>/<name>/id`). It is
 * found through /proc/self/mounts, or mounted at /sys/kernel/tracing when
 * nothing provides it; the caller is told when that happens, and only a
 * mount made here is ever unmounted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { AttachError } from './attach-error.js';
import { KernelError } from './errors.js';
import { mountFs, mountsOf, unmountLazily } from './mounts.js';

export const TRACEFS_DEFAULT = '/sys/kernel/tracing';
const DEBUGFS_TRACING = '/sys/kernel/debug/tracing';

export interface TracefsOptions {
  /**
   * Where to find or mount tracefs. Default: any tracefs mount, else
   * /sys/kernel/debug/tracing, else a new mount at /sys/kernel/tracing.
   */
  mountPoint?: string;
  /** False: never mount, throw when tracefs is not there. Default true. */
  mount?: boolean;
  /** Told (once) when tracefs is mounted; default: `process.emitWarning`. */
  onNotice?: (notice: string) => void;
}

/** A usable tracefs directory. `release()` unmounts it if, and only if, it was mounted here. */
export class Tracefs {
  readonly path: string;
  /** What the user was told when it was mounted here, or null when it was already there. */
  readonly notice: string | null;
  #mountedHere: boolean;

  constructor(path: string, mountedHere: boolean, notice: string | null) {
    this.path = path;
    this.#mountedHere = mountedHere;
    this.notice = notice;
  }

  /** True while a mount made by this process is in place. */
  get mountedHere(): boolean {
    return this.#mountedHere;
  }

  /** The numeric id of tracepoint `category/name` (for perf_event_open's `config`). */
  tracepointId(category: string, name: string): number {
    for (const [what, s] of [['category', category], ['name', name]] as const) {
      if (!/^[A-Za-z0-9_.-]+$/.test(s) || s === '.' || s === '..') {
        throw new AttachError('EATTACHARG', `tracepoint ${what} "${s}" is not a valid event name`, { category, name });
      }
    }
    const file = `${this.path}/events/${category}/${name}/id`;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      const hint = existsSync(`${this.path}/events/${category}`) ? `category ${category} has no event "${name}"` : `there is no event category "${category}"`;
      throw new AttachError('ENOTRACEPOINT', `no tracepoint ${category}/${name}: ${hint} (in ${this.path}/events)`, { category, name, tracefs: this.path });
    }
    const id = Number(text.trim());
    if (!Number.isInteger(id) || id < 0) throw new AttachError('ENOTRACEPOINT', `${file} holds "${text.trim()}", not an id`, { category, name, tracefs: this.path });
    return id;
  }

  /** Unmounts tracefs if this process mounted it (lazily: users with open files keep it). */
  release(): void {
    if (!this.#mountedHere) return;
    this.#mountedHere = false;
    unmountLazily(this.path, 'tracefs');
  }
}

/** Mount points of tracefs in this mount namespace (from /proc/self/mounts). */
export function tracefsMounts(): string[] {
  return mountsOf('tracefs');
}

let shared: Tracefs | undefined;

/**
 * A tracefs directory to read events from. Without `mountPoint` the result
 * is shared by the process and, if mounted here, unmounted at exit (or by
 * `releaseTracefs()`). With `mountPoint`, tracefs is mounted there unless
 * it already is, and the caller releases it.
 */
export function tracefs(opts: TracefsOptions = {}): Tracefs {
  if (opts.mountPoint !== undefined) {
    if (tracefsMounts().includes(opts.mountPoint)) return new Tracefs(opts.mountPoint, false, null);
    return mountTracefs(opts.mountPoint, opts, false);
  }
  if (shared && (shared.mountedHere || existsSync(`${shared.path}/events`))) return shared;
  const found = tracefsMounts().find((dir) => existsSync(`${dir}/events`)) ??
    (existsSync(`${DEBUGFS_TRACING}/events`) ? DEBUGFS_TRACING : undefined);
  if (found) {
    shared = new Tracefs(found, false, null);
    return shared;
  }
  shared = mountTracefs(TRACEFS_DEFAULT, opts, true);
  const mine = shared;
  process.once('exit', () => {
    try {
      mine.release();
    } catch {
      // nothing more can be done while exiting
    }
  });
  return shared;
}

/** Unmounts the shared tracefs if this process mounted it. */
export function releaseTracefs(): void {
  const s = shared;
  shared = undefined;
  s?.release();
}

function mountTracefs(dir: string, opts: TracefsOptions, atExit: boolean): Tracefs {
  if (opts.mount === false) {
    throw new AttachError('ENOTRACEFS', `tracefs is not mounted${opts.mountPoint ? ` at ${dir}` : ''}, and mounting it was not allowed`, { tracefs: dir });
  }
  const errno = mountFs('nodev', dir, 'tracefs');
  if (errno !== 0) throw new KernelError('mount', errno, '', `tracefs at ${dir} (tracepoint ids are read from it)`);
  const notice = `tsbpf: mounted tracefs at ${dir} (it was not mounted); it is unmounted again when released${atExit ? ' or at exit' : ''}`;
  if (opts.onNotice) opts.onNotice(notice);
  else process.emitWarning(notice, { code: 'TSBPF_MOUNT' });
  return new Tracefs(dir, true, notice);
}
