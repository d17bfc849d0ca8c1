/**
 * bpffs: the file system that pinned maps, programs and links live in. It
 * is found through /proc/self/mounts, or mounted (at /sys/fs/bpf by
 * default) when nothing provides it; the caller is told when that happens.
 * Unlike tracefs it is never unmounted at exit, since pins are meant to
 * outlive the process; `release()` unmounts it on request, and only if it
 * was mounted here.
 */
import { existsSync, mkdirSync, statfsSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { KernelError } from './errors.js';
import { mountFs, mountsOf, unmountLazily } from './mounts.js';

export const BPFFS_DEFAULT = '/sys/fs/bpf';
/** `f_type` of a bpffs directory in statfs(2). */
export const BPF_FS_MAGIC = 0xcafe4a11;

/** A problem with bpffs itself or with a path that should be in it. */
export class BpffsError extends TsbpfError {
  constructor(code: 'ENOBPFFS' | 'ENOTBPFFS', message: string, where: Record<string, unknown>) {
    super(code, message, where);
  }
}

export interface BpffsOptions {
  /** Where to find or mount bpffs. Default: /sys/fs/bpf if it is bpffs, else any bpffs mount, else a new mount at /sys/fs/bpf. */
  mountPoint?: string;
  /** False: never mount, throw when bpffs is not there. Default true. */
  mount?: boolean;
  /** Told when bpffs is mounted here; default: `process.emitWarning`. */
  onNotice?: (notice: string) => void;
}

/** A usable bpffs directory. `release()` unmounts it if, and only if, it was mounted here. */
export class Bpffs {
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

  /** `path/name`, refusing names that would leave the directory. */
  join(name: string): string {
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new BpffsError('ENOTBPFFS', `"${name}" is not a valid pin name (no '/', not '.' or '..')`, { name, bpffs: this.path });
    }
    return `${this.path}/${name}`;
  }

  /**
   * Unmounts bpffs if this process mounted it (lazily: open fds stay
   * valid, but every pin in it is gone). Does nothing otherwise.
   */
  release(): void {
    if (!this.#mountedHere) return;
    this.#mountedHere = false;
    unmountLazily(this.path, 'bpffs');
    if (shared === this) shared = undefined;
  }
}

/** Mount points of bpffs in this mount namespace (from /proc/self/mounts), in mount order. */
export function bpffsMounts(): string[] {
  return mountsOf('bpf');
}

/** True when `path` (an existing file or directory) is on a bpffs. */
export function isOnBpffs(path: string): boolean {
  try {
    return statfsSync(path).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Checks that a pin path's directory is on bpffs, with a typed error that
 * says what to do when it is not.
 */
export function assertPinPath(path: string): void {
  const slash = path.lastIndexOf('/');
  const dir = slash <= 0 ? (slash === 0 ? '/' : '.') : path.slice(0, slash);
  const name = path.slice(slash + 1);
  if (name === '' || name === '.' || name === '..') {
    throw new BpffsError('ENOTBPFFS', `pin path "${path}" does not name a file`, { path });
  }
  if (!existsSync(dir)) {
    throw new BpffsError('ENOTBPFFS', `the directory of pin path "${path}" does not exist`, { path, dir });
  }
  if (!isOnBpffs(dir)) {
    throw new BpffsError('ENOTBPFFS', `pin path "${path}" is not on a bpf file system (${dir} is not bpffs; mount one with \`mount -t bpf bpf ${BPFFS_DEFAULT}\`)`, { path, dir });
  }
}

let shared: Bpffs | undefined;

/**
 * A bpffs directory to pin in. Without `mountPoint`: /sys/fs/bpf when it is
 * bpffs, else the first bpffs mount, else bpffs is mounted at /sys/fs/bpf
 * (the result is then shared by the process). With `mountPoint`: bpffs is
 * mounted there (the directory is created) unless it already is bpffs.
 */
export function bpffs(opts: BpffsOptions = {}): Bpffs {
  if (opts.mountPoint !== undefined) {
    const dir = opts.mountPoint.replace(/(.)\/+$/, '$1');
    if (isOnBpffs(dir)) return new Bpffs(dir, false, null);
    return mountBpffs(dir, opts);
  }
  if (shared && isOnBpffs(shared.path)) return shared;
  if (isOnBpffs(BPFFS_DEFAULT)) {
    shared = new Bpffs(BPFFS_DEFAULT, false, null);
    return shared;
  }
  const found = bpffsMounts().find((d) => isOnBpffs(d));
  if (found) {
    shared = new Bpffs(found, false, null);
    return shared;
  }
  shared = mountBpffs(BPFFS_DEFAULT, opts);
  return shared;
}

function mountBpffs(dir: string, opts: BpffsOptions): Bpffs {
  if (opts.mount === false) {
    throw new BpffsError('ENOBPFFS', `bpffs is not mounted at ${dir}, and mounting it was not allowed`, { bpffs: dir });
  }
  if (!existsSync(dir)) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new BpffsError('ENOBPFFS', `cannot create the bpffs mount point ${dir}: ${(e as Error).message}`, { bpffs: dir });
    }
  }
  const errno = mountFs('bpf', dir, 'bpf');
  if (errno !== 0) throw new KernelError('mount', errno, '', `bpffs at ${dir} (pins live in it)`);
  const notice = `tsbpf: mounted bpffs at ${dir} (it was not mounted); it stays mounted so that pins outlive this process`;
  if (opts.onNotice) opts.onNotice(notice);
  else process.emitWarning(notice, { code: 'TSBPF_MOUNT' });
  return new Bpffs(dir, true, notice);
}
