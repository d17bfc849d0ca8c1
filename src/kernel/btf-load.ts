/**
 * BPF_BTF_LOAD, and the string table additions that line_info needs: its
 * file and source-line strings are offsets into the loaded BTF's strings.
 */
import { TsbpfError } from '../errors.js';
import { BpfCommand } from './constants.js';
import { KernelError } from './errors.js';
import { addressOf, bpfRaw, closeFd } from './syscall.js';

const ENOSPC = 28;
const EPERM = 1;
/** `sizeof` the BTF_LOAD part of `bpf_attr` up to and including `btf_log_true_size`. */
const BTF_LOAD_ATTR_SIZE = 32;
const FAILURE_LOG_SIZE = 1 << 20;
const MAX_LOG_SIZE = 1 << 28;
const HEADER = 24;

/** BTF loaded into the kernel: owns its fd. */
export class LoadedBtf {
  #fd: number;
  /** The kernel's log, empty unless a log level was requested. */
  readonly log: string;

  constructor(fd: number, log = '') {
    this.#fd = fd;
    this.log = log;
  }

  get fd(): number {
    if (this.#fd < 0) throw new TsbpfError('ECLOSED', 'the BTF object has been closed', {});
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export interface BtfLoadOptions {
  /** 0 (the default) asks for no log; a failed load is repeated with level 1 to get one. */
  logLevel?: number;
  logSize?: number;
}

const logText = (buf: Uint8Array): string => {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
};

/** Loads a `.BTF` blob with BPF_BTF_LOAD; failures are `KernelError`s carrying the kernel's BTF log. */
export function btfLoad(bytes: Uint8Array, opts: BtfLoadOptions = {}): LoadedBtf {
  const blob = bytes.slice();
  const attr = new Uint8Array(BTF_LOAD_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  const requested = opts.logLevel ?? 0;
  let level = requested;
  let size = level ? Math.max(opts.logSize ?? 1 << 16, 128) : 0;
  for (;;) {
    const log = new Uint8Array(size);
    v.setBigUint64(0, addressOf(blob), true);
    v.setBigUint64(8, addressOf(log), true);
    v.setUint32(16, blob.byteLength, true);
    v.setUint32(20, size, true);
    v.setUint32(24, level, true);
    v.setUint32(28, 0, true);
    const ret = bpfRaw(BpfCommand.BPF_BTF_LOAD, attr);
    if (ret >= 0) return new LoadedBtf(ret, level === requested ? logText(log) : '');
    const errno = -ret;
    if (errno === ENOSPC && level > 0 && size < MAX_LOG_SIZE) {
      size = Math.min(MAX_LOG_SIZE, Math.max(size * 2, v.getUint32(28, true) + 1));
      continue;
    }
    if (level === 0 && errno !== EPERM) {
      level = 1;
      size = FAILURE_LOG_SIZE;
      continue;
    }
    throw new KernelError('BPF_BTF_LOAD', errno, logText(log));
  }
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
