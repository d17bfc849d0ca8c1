/**
 * The system's bpf objects: ids from BPF_{PROG,MAP,LINK,BTF}_GET_NEXT_ID,
 * fds from BPF_*_GET_FD_BY_ID, and lists of what the kernel says about each
 * (every fd opened for a list is closed before it returns). Objects that go
 * away between the id walk and the open are skipped.
 */
import { adoptMapFd, adoptProgFd } from './adopt.js';
import { BpfCommand, commandName } from './constants.js';
import { KernelError } from './errors.js';
import { type MapInfo, mapInfo } from './info.js';
import { Link, type LinkInfo } from './link.js';
import type { KernelMap } from './map.js';
import type { LoadedProgram } from './prog.js';
import { type ProgDetails, progDetails } from './prog-details.js';
import { bpfRaw, closeFd } from './syscall.js';

const ENOENT = 2;

/** The kinds of objects the kernel numbers. */
export type IdKind = 'prog' | 'map' | 'link' | 'btf';

const NEXT_ID: Readonly<Record<IdKind, number>> = {
  prog: BpfCommand.BPF_PROG_GET_NEXT_ID,
  map: BpfCommand.BPF_MAP_GET_NEXT_ID,
  link: BpfCommand.BPF_LINK_GET_NEXT_ID,
  btf: BpfCommand.BPF_BTF_GET_NEXT_ID,
};
const FD_BY_ID: Readonly<Record<IdKind, number>> = {
  prog: BpfCommand.BPF_PROG_GET_FD_BY_ID,
  map: BpfCommand.BPF_MAP_GET_FD_BY_ID,
  link: BpfCommand.BPF_LINK_GET_FD_BY_ID,
  btf: BpfCommand.BPF_BTF_GET_FD_BY_ID,
};

/** Every id of this kind the kernel has now, ascending. */
export function objectIds(kind: IdKind): number[] {
  const ids: number[] = [];
  const attr = new Uint8Array(12);
  const v = new DataView(attr.buffer);
  for (let id = 0; ;) {
    v.setUint32(0, id, true);
    v.setUint32(4, 0, true);
    const ret = bpfRaw(NEXT_ID[kind], attr);
    if (ret === -ENOENT) return ids;
    if (ret < 0) throw new KernelError(commandName(NEXT_ID[kind]), -ret);
    id = v.getUint32(4, true);
    ids.push(id);
  }
}

export const progIds = (): number[] => objectIds('prog');
export const mapIds = (): number[] => objectIds('map');
export const linkIds = (): number[] => objectIds('link');
export const btfIds = (): number[] => objectIds('btf');

/** The raw result of BPF_*_GET_FD_BY_ID (negative errno on failure). */
function fdByIdRaw(kind: IdKind, id: number, openFlags: number): number {
  const attr = new Uint8Array(12);
  const v = new DataView(attr.buffer);
  v.setUint32(0, id, true);
  v.setUint32(8, openFlags, true);
  return bpfRaw(FD_BY_ID[kind], attr);
}

/** A new fd for the object with this id; the caller owns it. `KernelError` ENOENT when there is none. */
export function fdById(kind: IdKind, id: number, openFlags = 0): number {
  const ret = fdByIdRaw(kind, id, openFlags);
  if (ret < 0) throw new KernelError(commandName(FD_BY_ID[kind]), -ret, '', `${kind} id ${id}`);
  return ret;
}

/** The program with this id, opened (close it). */
export function programById(id: number): LoadedProgram {
  return adoptProgFd(fdById('prog', id));
}

/** The map with this id, opened (close it). `openFlags`: `BPF_F_RDONLY` (8) or `BPF_F_WRONLY` (16). */
export function mapById(id: number, openFlags = 0): KernelMap {
  return adoptMapFd(fdById('map', id, openFlags));
}

/** The bpf_link with this id, opened: closing it only drops this fd (the link stays while others hold it). */
export function linkById(id: number): Link {
  return new Link(fdById('link', id), 'link');
}

/** Opens each id, reads `read(fd)`, closes the fd; ids that vanished meanwhile are skipped. */
function collect<T>(kind: IdKind, read: (fd: number) => T): T[] {
  const out: T[] = [];
  for (const id of objectIds(kind)) {
    const fd = fdByIdRaw(kind, id, 0);
    if (fd === -ENOENT) continue;
    if (fd < 0) throw new KernelError(commandName(FD_BY_ID[kind]), -fd, '', `${kind} id ${id}`);
    try {
      out.push(read(fd));
    } finally {
      closeFd(fd);
    }
  }
  return out;
}

/** Every program loaded in the system, with what the kernel says about it. */
export function listPrograms(): ProgDetails[] {
  return collect('prog', progDetails);
}

/** Every map in the system. */
export function listMaps(): MapInfo[] {
  return collect('map', mapInfo);
}

/** Every bpf_link in the system. */
export function listLinks(): LinkInfo[] {
  return collect('link', (fd) => Link.info(fd));
}

/** What the kernel says about one program, by id (the fd is closed again). */
export function programInfoById(id: number): ProgDetails {
  const fd = fdById('prog', id);
  try {
    return progDetails(fd);
  } finally {
    closeFd(fd);
  }
}

/** What the kernel says about one map, by id. */
export function mapInfoById(id: number): MapInfo {
  const fd = fdById('map', id);
  try {
    return mapInfo(fd);
  } finally {
    closeFd(fd);
  }
}

/** What the kernel says about one link, by id. */
export function linkInfoById(id: number): LinkInfo {
  const fd = fdById('link', id);
  try {
    return Link.info(fd);
  } finally {
    closeFd(fd);
  }
}

/**
 * Detaches the link with this id now (BPF_LINK_DETACH), whoever holds it:
 * the program leaves its hook, and the link stays, defunct, until its last
 * fd or pin goes.
 */
export function detachLinkById(id: number): void {
  const l = linkById(id);
  try {
    l.detachNow();
  } finally {
    l.close();
  }
}
