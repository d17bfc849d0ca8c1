/**
 * Pinning: BPF_OBJ_PIN puts a map, program or link in bpffs so that it
 * outlives the process; BPF_OBJ_GET opens it again, from any process.
 * `resolvePinnedMap` is libbpf's `pinning: by_name` rule for a map about to
 * be created (reuse a compatible pin, refuse an incompatible one), and
 * `PinRegistry` remembers the pins this process made so that only those are
 * removed.
 */
import { statSync, unlinkSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { MapFlag, mapTypeName } from '../object/kinds.js';
import type { MapSpec } from '../object/spec.js';
import { adoptMapFd, adoptProgFd, expectKind, fdKind, type BpfObjectKind } from './adopt.js';
import { assertPinPath } from './bpffs.js';
import { BpfCommand } from './constants.js';
import { KernelError } from './errors.js';
import { type MapInfo, mapInfo } from './info.js';
import { Link } from './link.js';
import type { KernelMap } from './map.js';
import { type MapDefinition, effectiveMaxEntries, resolveMapType } from './map-create.js';
import { OwnedFd } from './owned-fd.js';
import type { LoadedProgram } from './prog.js';
import { addressOf, bpfRaw, closeFd } from './syscall.js';

const ENOENT = 2;
/** `sizeof` the BPF_OBJ_PIN / BPF_OBJ_GET part of `bpf_attr` (pathname, bpf_fd, file_flags, path_fd). */
const OBJ_ATTR_SIZE = 24;

/** `file_flags` of BPF_OBJ_GET: the access the returned fd has. */
export const PinFileFlag = {
  RDONLY: MapFlag.RDONLY,
  WRONLY: MapFlag.WRONLY,
} as const;

/** A pin that is not what it should be: the wrong kind of object, or a map that does not match its definition. */
export class PinError extends TsbpfError {
  constructor(code: 'EPINKIND' | 'EPINMISMATCH', message: string, where: Record<string, unknown>) {
    super(code, message, where);
  }
}

/** One field where a pinned map differs from the definition that asked for it. */
export interface PinMismatch {
  readonly field: 'type' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags' | 'mapExtra';
  readonly pinned: number | bigint | string;
  readonly wanted: number | bigint | string;
}

/** The pinned map at `path` differs from the map definition that would reuse it. */
export class PinMismatchError extends PinError {
  readonly path: string;
  readonly mismatches: readonly PinMismatch[];

  constructor(path: string, map: string, mismatches: readonly PinMismatch[]) {
    const list = mismatches.map((m) => `${m.field} ${String(m.pinned)} (wanted ${String(m.wanted)})`).join(', ');
    super('EPINMISMATCH', `the map pinned at ${path} cannot be reused for map "${map}": ${list}; remove the pin or change the definition`, {
      path, map, mismatches: mismatches.map((m) => m.field),
    });
    this.path = path;
    this.mismatches = mismatches;
  }
}

function objAttr(path: string, fd: number, flags: number): { attr: Uint8Array; name: Uint8Array } {
  const name = new TextEncoder().encode(`${path}\0`);
  const attr = new Uint8Array(OBJ_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setBigUint64(0, addressOf(name), true);
  v.setUint32(8, fd, true);
  v.setUint32(12, flags, true);
  return { attr, name };
}

const fdOf = (obj: number | { readonly fd: number }): number => (typeof obj === 'number' ? obj : obj.fd);

/**
 * Pins the object behind `obj` (a map, program or link fd, or an object that
 * owns one) at `path` in bpffs with BPF_OBJ_PIN. A path outside bpffs gives
 * a `BpffsError` that says so; an existing path gives `KernelError` EEXIST.
 */
export function pinObject(obj: number | { readonly fd: number }, path: string): void {
  const { attr, name } = objAttr(path, fdOf(obj), 0);
  const ret = bpfRaw(BpfCommand.BPF_OBJ_PIN, attr);
  void name;
  if (ret >= 0) return;
  if (-ret !== 17 /* EEXIST */) assertPinPath(path);
  throw new KernelError('BPF_OBJ_PIN', -ret, '', path);
}

export interface GetPinnedOptions {
  /** Open read-only (`BPF_F_RDONLY`) or write-only (`BPF_F_WRONLY`) for user space; default both. */
  access?: 'rw' | 'read' | 'write';
}

function fileFlags(opts: GetPinnedOptions): number {
  switch (opts.access ?? 'rw') {
    case 'read': return PinFileFlag.RDONLY;
    case 'write': return PinFileFlag.WRONLY;
    default: return 0;
  }
}

/** BPF_OBJ_GET: a new fd for the object pinned at `path`; the caller owns it. Throws `KernelError` (ENOENT when nothing is pinned there). */
export function getPinnedFd(path: string, opts: GetPinnedOptions = {}): number {
  const { attr, name } = objAttr(path, 0, fileFlags(opts));
  const ret = bpfRaw(BpfCommand.BPF_OBJ_GET, attr);
  void name;
  if (ret < 0) throw new KernelError('BPF_OBJ_GET', -ret, '', path);
  return ret;
}

/** Any object opened from a pin; `kind` says what it is. */
export class PinnedObject extends OwnedFd {
  readonly path: string;
  readonly kind: BpfObjectKind;

  constructor(fd: number, path: string) {
    super(fd);
    this.path = path;
    this.kind = fdKind(fd);
  }

  protected closedError(): TsbpfError {
    return new TsbpfError('ECLOSED', `the object pinned at ${this.path} has been closed`, { path: this.path });
  }
}

/** Opens whatever is pinned at `path` (BPF_OBJ_GET with the access in `opts`). */
export function getPinned(path: string, opts: GetPinnedOptions = {}): PinnedObject {
  return new PinnedObject(getPinnedFd(path, opts), path);
}

function openKind<T>(path: string, opts: GetPinnedOptions, kind: BpfObjectKind, adopt: (fd: number) => T): T {
  const fd = getPinnedFd(path, opts);
  try {
    expectKind(fd, kind, `the object pinned at ${path}`);
  } catch (e) {
    closeFd(fd);
    throw new PinError('EPINKIND', (e as Error).message, { path, want: kind });
  }
  return adopt(fd);
}

/** The map pinned at `path`, as a `KernelMap` (its definition read back from the kernel). */
export function openPinnedMap(path: string, opts: GetPinnedOptions = {}): KernelMap {
  return openKind(path, opts, 'map', adoptMapFd);
}

/** The program pinned at `path`. */
export function openPinnedProgram(path: string, opts: GetPinnedOptions = {}): LoadedProgram {
  return openKind(path, opts, 'prog', adoptProgFd);
}

/** The bpf_link pinned at `path`. */
export function openPinnedLink(path: string, opts: GetPinnedOptions = {}): Link {
  return openKind(path, opts, 'link', (fd) => new Link(fd, 'pinned'));
}

/** Where `pinning: by_name` puts a map: `dir/<map name>`. */
export function pinPathFor(spec: Pick<MapSpec, 'name'>, dir: string): string {
  const name = spec.name;
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new TsbpfError('EARG', `map name "${name}" cannot be a pin file name`, { map: name, dir });
  }
  return `${dir.replace(/\/+$/, '') || '/'}/${name}`;
}

/** The fields where a pinned map differs from `def` (libbpf compares these before reusing a pin). */
export function pinMismatches(info: MapInfo, def: MapDefinition): PinMismatch[] {
  const out: PinMismatch[] = [];
  const type = resolveMapType(def.type);
  let flags = def.flags ?? 0;
  if ((def.numaNode ?? 0) > 0) flags |= MapFlag.NUMA_NODE;
  if (info.type !== type) out.push({ field: 'type', pinned: mapTypeName(info.type), wanted: mapTypeName(type) });
  if (info.keySize !== def.keySize) out.push({ field: 'keySize', pinned: info.keySize, wanted: def.keySize });
  if (info.valueSize !== def.valueSize) out.push({ field: 'valueSize', pinned: info.valueSize, wanted: def.valueSize });
  const max = effectiveMaxEntries(def);
  if (info.maxEntries !== max) out.push({ field: 'maxEntries', pinned: info.maxEntries, wanted: max });
  if (info.flags >>> 0 !== flags >>> 0) out.push({ field: 'flags', pinned: `0x${(info.flags >>> 0).toString(16)}`, wanted: `0x${(flags >>> 0).toString(16)}` });
  const extra = BigInt.asUintN(64, def.mapExtra ?? 0n);
  if (info.mapExtra !== extra) out.push({ field: 'mapExtra', pinned: info.mapExtra, wanted: extra });
  return out;
}

/**
 * libbpf's `pinning: by_name` for a map about to be created: when
 * `dir/<name>` holds a pinned map with the same type, key and value size,
 * max entries, flags and map_extra, that map is opened and returned for
 * reuse; when nothing is pinned there, null (create the map, then pin it,
 * e.g. with `PinRegistry.pin`). A pin of another kind or an incompatible map
 * throws `PinError` / `PinMismatchError`. Maps without `pinning: by_name`
 * give null.
 */
export function resolvePinnedMap(spec: MapSpec, dir: string): KernelMap | null {
  if (spec.pinning !== 'by_name') return null;
  const path = pinPathFor(spec, dir);
  let fd: number;
  try {
    fd = getPinnedFd(path);
  } catch (e) {
    if (e instanceof KernelError && e.errno === ENOENT) return null;
    throw e;
  }
  try {
    if (fdKind(fd) !== 'map') throw new PinError('EPINKIND', `${path} holds a pinned bpf ${fdKind(fd)}, not a map, so map "${spec.name}" cannot reuse it`, { path, map: spec.name });
    const diffs = pinMismatches(mapInfo(fd), spec);
    if (diffs.length > 0) throw new PinMismatchError(path, spec.name, diffs);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return adoptMapFd(fd);
}

interface PinRecord {
  readonly dev: bigint;
  readonly ino: bigint;
}

export interface PinRegistryOptions {
  /** Remove this registry's pins when the process exits (`process.on('exit')`). Default false. */
  removeOnExit?: boolean;
}

/**
 * The pins this process made. `cleanup()` removes those, and only those
 * that still are the same file (a path another process re-pinned since is
 * left alone); pins made by anyone else are never touched.
 */
export class PinRegistry implements Disposable {
  readonly #pins = new Map<string, PinRecord>();
  #onExit: (() => void) | null = null;

  constructor(opts: PinRegistryOptions = {}) {
    if (opts.removeOnExit) {
      this.#onExit = () => {
        try {
          this.cleanup();
        } catch {
          // nothing more can be done while exiting
        }
      };
      process.once('exit', this.#onExit);
    }
  }

  /** Pins `obj` at `path` and remembers it as this process's pin. */
  pin(obj: number | { readonly fd: number }, path: string): void {
    pinObject(obj, path);
    const st = statSync(path, { bigint: true });
    this.#pins.set(path, { dev: st.dev, ino: st.ino });
  }

  /** `pinning: by_name` after creating the map: pins it at `dir/<map name>`; returns the path. */
  pinMap(map: { readonly fd: number }, spec: Pick<MapSpec, 'name'>, dir: string): string {
    const path = pinPathFor(spec, dir);
    this.pin(map, path);
    return path;
  }

  /** The paths this registry pinned and has not removed or forgotten. */
  get paths(): string[] {
    return [...this.#pins.keys()];
  }

  /** True when `path` is a pin this registry made (and still holds). */
  owns(path: string): boolean {
    const r = this.#pins.get(path);
    if (!r) return false;
    try {
      const st = statSync(path, { bigint: true });
      return st.dev === r.dev && st.ino === r.ino;
    } catch {
      return false;
    }
  }

  /** Stops tracking `path` (or every pin, without an argument): it then survives `cleanup()` (`--keep`). */
  forget(path?: string): void {
    if (path === undefined) this.#pins.clear();
    else this.#pins.delete(path);
  }

  /** Removes one of this registry's pins; false when it is not one, or was already gone or replaced. */
  unpin(path: string): boolean {
    const mine = this.owns(path);
    this.#pins.delete(path);
    if (!mine) return false;
    unlinkSync(path);
    return true;
  }

  /** Removes every pin this registry made that is still in place; returns the removed paths. */
  cleanup(): string[] {
    const removed: string[] = [];
    let first: unknown = null;
    for (const path of this.paths) {
      try {
        if (this.unpin(path)) removed.push(path);
      } catch (e) {
        first ??= e;
      }
    }
    if (this.#onExit) {
      process.removeListener('exit', this.#onExit);
      this.#onExit = null;
    }
    if (first !== null) throw first;
    return removed;
  }

  [Symbol.dispose](): void {
    this.cleanup();
  }
}
