/**
 * BTF objects already in the kernel, by id (a map's or program's `btf_id`):
 * their info and raw bytes (BPF_BTF_GET_FD_BY_ID, then
 * BPF_OBJ_GET_INFO_BY_FD with a buffer), parsed with `Btf.parse`.
 */
import { Btf } from '../btf/index.js';
import { BpfCommand } from './constants.js';
import { KernelError } from './errors.js';
import { fdById } from './iterate.js';
import { addressOf, bpfRaw, closeFd } from './syscall.js';

const INFO_SIZE = 32;

export interface KernelBtfInfo {
  id: number;
  /** Size of the raw BTF in bytes. */
  size: number;
  /** The BTF's name (`vmlinux`, a module's name; empty for objects' BTF). */
  name: string;
  /** True for the kernel's and modules' own BTF. */
  kernel: boolean;
}

function infoCall(fd: number, info: Uint8Array): void {
  const attr = new Uint8Array(16);
  const a = new DataView(attr.buffer);
  a.setUint32(0, fd, true);
  a.setUint32(4, info.byteLength, true);
  a.setBigUint64(8, addressOf(info), true);
  const ret = bpfRaw(BpfCommand.BPF_OBJ_GET_INFO_BY_FD, attr);
  if (ret < 0) throw new KernelError('BPF_OBJ_GET_INFO_BY_FD', -ret, '', 'btf');
}

/** What the kernel says about a BTF fd, and its bytes when `withBytes`. */
export function btfInfo(fd: number, withBytes = false): KernelBtfInfo & { bytes?: Uint8Array } {
  const nameBuf = new Uint8Array(64);
  const info = new Uint8Array(INFO_SIZE);
  const v = new DataView(info.buffer);
  v.setBigUint64(16, addressOf(nameBuf), true);
  v.setUint32(24, nameBuf.byteLength, true);
  infoCall(fd, info);
  const size = v.getUint32(8, true);
  const end = nameBuf.indexOf(0);
  const out: KernelBtfInfo & { bytes?: Uint8Array } = {
    id: v.getUint32(12, true),
    size,
    name: new TextDecoder().decode(nameBuf.subarray(0, end < 0 ? nameBuf.length : end)),
    kernel: v.getUint32(28, true) !== 0,
  };
  if (withBytes) {
    const bytes = new Uint8Array(size);
    const info2 = new Uint8Array(INFO_SIZE);
    const v2 = new DataView(info2.buffer);
    v2.setBigUint64(0, addressOf(bytes), true);
    v2.setUint32(8, size, true);
    infoCall(fd, info2);
    out.bytes = bytes.subarray(0, Math.min(size, v2.getUint32(8, true)));
  }
  return out;
}

/** The raw bytes of the BTF object with this id. */
export function btfBytesById(id: number): Uint8Array {
  const fd = fdById('btf', id);
  try {
    return btfInfo(fd, true).bytes!;
  } finally {
    closeFd(fd);
  }
}

/**
 * The BTF object with this id, parsed. Split BTF (a module's) needs its
 * base, so only self-contained BTF (objects' BTF, vmlinux) parses here.
 */
export function btfById(id: number): Btf {
  return Btf.parse(btfBytesById(id));
}
