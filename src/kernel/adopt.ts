/**
 * Owning objects for fds this process did not create itself: from a pin
 * (BPF_OBJ_GET) or from an id (BPF_*_GET_FD_BY_ID). What the kernel says
 * about the object (BPF_OBJ_GET_INFO_BY_FD) fills in the rest.
 */
import { readlinkSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { mapInfo, progInfo } from './info.js';
import { KernelMap } from './map.js';
import { LoadedProgram } from './prog.js';
import { closeFd } from './syscall.js';

/** What kind of bpf object an fd holds. */
export type BpfObjectKind = 'map' | 'prog' | 'link' | 'btf' | 'unknown';

/** The kind of bpf object behind `fd`, from its anon inode name (`anon_inode:bpf-map`...). */
export function fdKind(fd: number): BpfObjectKind {
  let target = '';
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return 'unknown';
  }
  if (target === 'anon_inode:bpf-map') return 'map';
  if (target === 'anon_inode:bpf-prog') return 'prog';
  if (target === 'anon_inode:bpf_link' || target === 'anon_inode:bpf-link') return 'link';
  if (target === 'anon_inode:btf') return 'btf';
  return 'unknown';
}

/** Takes ownership of a map fd: a `KernelMap` described by the kernel's map info. Closes `fd` if that fails. */
export function adoptMapFd(fd: number): KernelMap {
  try {
    const i = mapInfo(fd);
    return new KernelMap(fd, {
      name: i.name,
      type: i.type,
      keySize: i.keySize,
      valueSize: i.valueSize,
      maxEntries: i.maxEntries,
      flags: i.flags,
      mapExtra: i.mapExtra,
    }, i.btfKeyTypeId !== 0 || i.btfValueTypeId !== 0);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

/** Takes ownership of a program fd: a `LoadedProgram` of the type the kernel reports. Closes `fd` if that fails. */
export function adoptProgFd(fd: number): LoadedProgram {
  try {
    return new LoadedProgram(fd, '', progInfo(fd).type);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

/** Throws a typed error unless `fd` holds a bpf object of this kind (the fd is left open). */
export function expectKind(fd: number, want: BpfObjectKind, what: string): void {
  const got = fdKind(fd);
  if (got !== want) {
    throw new TsbpfError('EBPFKIND', `${what} is a ${got === 'unknown' ? 'non-bpf or unknown object' : `bpf ${got}`}, not a bpf ${want}`, { what, want, got });
  }
}
