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
import { getInfoByFd } from './info.js';

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


/** What the kernel says about a BTF fd, and its bytes when `withBytes`. */
export function btfInfo(fd: number, withBytes = false): KernelBtfInfo & { bytes?: Uint8Array } {
  const nameBuf = new Uint8Array(64);
  const info = new Uint8Array(INFO_SIZE);
  const v = new DataView(info.buffer);
  v.setBigUint64(16, addressOf(nameBuf), true);
  v.setUint32(24, nameBuf.byteLength, true);
  getInfoByFd(fd, info, 'btf');
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
    getInfoByFd(fd, info2, 'btf');
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
