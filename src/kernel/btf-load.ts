/**
 * BPF_BTF_LOAD, and the string table additions that line_info needs: its
 * file and source-line strings are offsets into the loaded BTF's strings.
 */
import { TsbpfError } from '../errors.js';
import { BpfCommand } from './constants.js';
import { loadWithLog } from './log-buffer.js';
import { OwnedFd } from './owned-fd.js';
import { addressOf } from './syscall.js';

/** `sizeof` the BTF_LOAD part of `bpf_attr` up to and including `btf_log_true_size`. */
const BTF_LOAD_ATTR_SIZE = 32;
const HEADER = 24;

/** BTF loaded into the kernel: owns its fd. */
export class LoadedBtf extends OwnedFd {
  /** The kernel's log, empty unless a log level was requested. */
  readonly log: string;

  constructor(fd: number, log = '') {
    super(fd);
    this.log = log;
  }

  protected closedError(): TsbpfError {
    return new TsbpfError('ECLOSED', 'the BTF object has been closed', {});
  }
}

export interface BtfLoadOptions {
  /** 0 (the default) asks for no log; a failed load is repeated with level 1 to get one. */
  logLevel?: number;
  logSize?: number;
}

/** Loads a `.BTF` blob with BPF_BTF_LOAD; failures are `KernelError`s carrying the kernel's BTF log. */
export function btfLoad(bytes: Uint8Array, opts: BtfLoadOptions = {}): LoadedBtf {
  const blob = bytes.slice();
  const attr = new Uint8Array(BTF_LOAD_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setBigUint64(0, addressOf(blob), true);
  v.setUint32(16, blob.byteLength, true);
  const { fd, log } = loadWithLog(BpfCommand.BPF_BTF_LOAD, attr, { buf: 8, size: 20, level: 24, trueSize: 28 }, opts);
  return new LoadedBtf(fd, log);
}

/**
 * Appends strings to an encoded BTF blob's string section (reusing the ones
 * already there) and returns the new blob with each string's offset.
 */
export function appendBtfStrings(bytes: Uint8Array, strings: Iterable<string>): { bytes: Uint8Array; offsets: Map<string, number> } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = v.getUint32(4, true);
  const strOff = v.getUint32(16, true);
  const strLen = v.getUint32(20, true);
  const start = hdrLen + strOff;
  const table = bytes.subarray(start, start + strLen);
  const offsets = new Map<string, number>();
  const dec = new TextDecoder();
  for (let p = 0; p < table.length;) {
    let e = table.indexOf(0, p);
    if (e < 0) e = table.length;
    const s = dec.decode(table.subarray(p, e));
    if (!offsets.has(s)) offsets.set(s, p);
    p = e + 1;
  }
  const enc = new TextEncoder();
  const extra: Uint8Array[] = [];
  let len = strLen;
  for (const s of strings) {
    if (offsets.has(s)) continue;
    const b = enc.encode(s);
    offsets.set(s, len);
    extra.push(b);
    len += b.length + 1;
  }
  if (extra.length === 0) return { bytes, offsets };
  if (start + strLen !== bytes.length || hdrLen !== HEADER) {
    throw new TsbpfError('EBTF', 'the BTF string section is not at the end of the blob', { hdrLen, strOff, strLen });
  }
  const out = new Uint8Array(bytes.length + (len - strLen));
  out.set(bytes);
  let p = bytes.length;
  for (const b of extra) {
    out.set(b, p);
    p += b.length + 1;
  }
  new DataView(out.buffer).setUint32(20, len, true);
  return { bytes: out, offsets };
}
