/**
 * BPF_OBJ_GET_INFO_BY_FD for maps and programs: what the kernel says it
 * holds (ids, names, BTF ids, how many func/line info records it kept).
 */
import { BpfCommand } from './constants.js';
import { KernelError } from './errors.js';
import { addressOf, bpfRaw } from './syscall.js';

export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mapExtra: bigint;
}

export interface ProgInfo {
  type: number;
  id: number;
  name: string;
  /** Instructions after the verifier's rewrites, in slots. */
  xlatedInsns: number;
  btfId: number;
  nrFuncInfo: number;
  nrLineInfo: number;
  nrMapIds: number;
  verifiedInsns: number;
}

/**
 * BPF_OBJ_GET_INFO_BY_FD for any bpf object (map, program, link, BTF): the
 * kernel fills `info` (as much of it as it knows). `detail` goes into the
 * error.
 */
export function getInfoByFd(fd: number, info: Uint8Array, detail = ''): void {
  const attr = new Uint8Array(16);
  const a = new DataView(attr.buffer);
  a.setUint32(0, fd, true);
  a.setUint32(4, info.byteLength, true);
  a.setBigUint64(8, addressOf(info), true);
  const ret = bpfRaw(BpfCommand.BPF_OBJ_GET_INFO_BY_FD, attr);
  if (ret < 0) throw new KernelError('BPF_OBJ_GET_INFO_BY_FD', -ret, '', detail);
}

function infoByFd(fd: number, size: number): DataView {
  const info = new Uint8Array(size);
  getInfoByFd(fd, info);
  return new DataView(info.buffer);
}

function cName(v: DataView, at: number): string {
  const bytes = new Uint8Array(v.buffer, at, 16);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** `struct bpf_map_info` of a map fd. */
export function mapInfo(fd: number): MapInfo {
  const v = infoByFd(fd, 88);
  return {
    type: v.getUint32(0, true),
    id: v.getUint32(4, true),
    keySize: v.getUint32(8, true),
    valueSize: v.getUint32(12, true),
    maxEntries: v.getUint32(16, true),
    flags: v.getUint32(20, true),
    name: cName(v, 24),
    btfId: v.getUint32(64, true),
    btfKeyTypeId: v.getUint32(68, true),
    btfValueTypeId: v.getUint32(72, true),
    mapExtra: v.getBigUint64(80, true),
  };
}

/** `struct bpf_prog_info` of a program fd (without the arrays it can point to). */
export function progInfo(fd: number): ProgInfo {
  const v = infoByFd(fd, 232);
  return {
    type: v.getUint32(0, true),
    id: v.getUint32(4, true),
    name: cName(v, 64),
    xlatedInsns: v.getUint32(20, true) / 8,
    btfId: v.getUint32(128, true),
    nrFuncInfo: v.getUint32(144, true),
    nrLineInfo: v.getUint32(148, true),
    nrMapIds: v.getUint32(52, true),
    verifiedInsns: v.getUint32(216, true),
  };
}
