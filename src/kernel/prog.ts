import { TsbpfError } from '../errors.js';
import { type Instruction, encode } from '../isa/index.js';
import { BpfCommand, ProgType, type ProgTypeName } from './constants.js';
import { KernelError } from './errors.js';
import { loadWithLog } from './log-buffer.js';
import { OwnedFd } from './owned-fd.js';
import { addressOf, bpfRaw } from './syscall.js';

const ENOSPC = 28;
/** `sizeof(union bpf_attr)` up to and including `log_true_size` (offset 140). */
const PROG_LOAD_ATTR_SIZE = 144;
/** `sizeof(union bpf_attr)` up to and including the test-run `batch_size` (offset 72). */
const TEST_RUN_ATTR_SIZE = 76;

export interface ProgLoadOptions {
  /** Program type number or name (`'XDP'`, `'SOCKET_FILTER'`, ...). */
  type: number | ProgTypeName;
  /** Instructions, or already encoded bytecode (a multiple of 8 bytes). */
  insns: readonly Instruction[] | Uint8Array;
  /** Defaults to `GPL`, so that GPL-only helpers are allowed. */
  license?: string;
  /** Verifier log level (bits 1, 2, 4); 0 (the default) asks for no log. */
  logLevel?: number;
  /** Initial log buffer size; grown automatically when the kernel reports ENOSPC. */
  logSize?: number;
  /** Up to 15 characters of `[A-Za-z0-9_.]`. */
  name?: string;
  expectedAttachType?: number;
  /** `prog_flags` (see `ProgFlag`). */
  flags?: number;
  kernVersion?: number;
  /** fd of the loaded BTF that `funcInfo` and `lineInfo` refer to (`prog_btf_fd`). */
  btfFd?: number;
  /** `bpf_func_info` records: where each function starts (in slots) and its BTF FUNC id. */
  funcInfo?: readonly FuncInfoRecord[];
  /** `bpf_line_info` records; file and line strings are offsets into the BTF's string section. */
  lineInfo?: readonly LineInfoRecord[];
  /**
   * CO-RE relocations for the kernel to apply (`bpf_core_relo` records, Linux
   * 5.17+): type ids and access strings refer to the BTF in `btfFd`.
   */
  coreRelos?: readonly CoreReloRecord[];
  /** BTF id of the attach target (tp_btf, fentry, iter, lsm, struct_ops). */
  attachBtfId?: number;
  /** fd of the BTF object (0 = vmlinux) or program that `attachBtfId` lives in. */
  attachBtfObjFd?: number;
}

export interface FuncInfoRecord {
  /** Slot index of the function's first instruction. */
  readonly insnOff: number;
  readonly typeId: number;
}

export interface LineInfoRecord {
  /** Slot index of the first instruction of the line. */
  readonly insnOff: number;
  readonly fileNameOff: number;
  readonly lineOff: number;
  readonly line: number;
  readonly column: number;
}

export interface CoreReloRecord {
  /** Slot index of the relocated instruction. */
  readonly insnOff: number;
  readonly typeId: number;
  /** Offset of the access string (`0:1:2`) in the BTF's string section. */
  readonly accessStrOff: number;
  /** `enum bpf_core_relo_kind`. */
  readonly kind: number;
}

function encodeRecords<T>(records: readonly T[], size: number, write: (v: DataView, at: number, r: T) => void): Uint8Array {
  const out = new Uint8Array(records.length * size);
  const v = new DataView(out.buffer);
  records.forEach((r, k) => write(v, k * size, r));
  return out;
}

/**
 * A program loaded into the kernel: it owns its file descriptor. Close it
 * with `close()`, or declare it with `using` to have it closed automatically.
 */
export class LoadedProgram extends OwnedFd {
  /** The verifier log, empty unless a log level was requested. */
  readonly log: string;
  readonly type: number;

  constructor(fd: number, log: string, type: number) {
    super(fd);
    this.log = log;
    this.type = type;
  }

  protected closedError(): TsbpfError {
    return new TsbpfError('ECLOSED', 'the program has been closed', {});
  }
}

function resolveType(type: number | ProgTypeName): number {
  if (typeof type === 'number') return type;
  const n = ProgType[type];
  if (n === undefined) throw new TsbpfError('EARG', `unknown program type ${String(type)}`, { type });
  return n;
}

function nameBytes(name: string): Uint8Array {
  if (name.length > 15 || !/^[A-Za-z0-9_.]*$/.test(name)) {
    throw new TsbpfError('EARG', `program name "${name}" must be at most 15 characters of [A-Za-z0-9_.]`, { name });
  }
  return new TextEncoder().encode(name);
}

const cString = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

/**
 * Loads a program with BPF_PROG_LOAD. On failure throws a `KernelError`
 * whose `log` holds the verifier's explanation: when no log was requested,
 * the load is repeated once with log level 1 to obtain it.
 */
export function progLoad(opts: ProgLoadOptions): LoadedProgram {
  const type = resolveType(opts.type);
  const code = opts.insns instanceof Uint8Array ? opts.insns : encode(opts.insns);
  if (code.byteLength === 0 || code.byteLength % 8 !== 0) {
    throw new TsbpfError('EARG', `bytecode length ${code.byteLength} is not a positive multiple of 8`, {});
  }
  const license = cString(opts.license ?? 'GPL');
  const name = nameBytes(opts.name ?? '');
  const attr = new Uint8Array(PROG_LOAD_ATTR_SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, code.byteLength / 8, true);
  view.setBigUint64(8, addressOf(code), true);
  view.setBigUint64(16, addressOf(license), true);
  view.setUint32(40, opts.kernVersion ?? 0, true);
  view.setUint32(44, opts.flags ?? 0, true);
  attr.set(name, 48);
  view.setUint32(68, opts.expectedAttachType ?? 0, true);
  const funcInfo = encodeRecords(opts.funcInfo ?? [], 8, (v, at, r) => {
    v.setUint32(at, r.insnOff, true);
    v.setUint32(at + 4, r.typeId, true);
  });
  const lineInfo = encodeRecords(opts.lineInfo ?? [], 16, (v, at, r) => {
    v.setUint32(at, r.insnOff, true);
    v.setUint32(at + 4, r.fileNameOff, true);
    v.setUint32(at + 8, r.lineOff, true);
    v.setUint32(at + 12, ((r.line << 10) | (r.column & 0x3ff)) >>> 0, true);
  });
  const coreRelos = encodeRecords(opts.coreRelos ?? [], 16, (v, at, r) => {
    v.setUint32(at, r.insnOff * 8, true); // bytes, not slots
    v.setUint32(at + 4, r.typeId, true);
    v.setUint32(at + 8, r.accessStrOff, true);
    v.setUint32(at + 12, r.kind, true);
  });
  if (opts.btfFd !== undefined) {
    view.setUint32(72, opts.btfFd, true);
    if (coreRelos.byteLength) {
      view.setUint32(116, coreRelos.byteLength / 16, true);
      view.setBigUint64(128, addressOf(coreRelos), true);
      view.setUint32(136, 16, true);
    }
    if (funcInfo.byteLength) {
      view.setUint32(76, 8, true);
      view.setBigUint64(80, addressOf(funcInfo), true);
      view.setUint32(88, funcInfo.byteLength / 8, true);
    }
    if (lineInfo.byteLength) {
      view.setUint32(92, 16, true);
      view.setBigUint64(96, addressOf(lineInfo), true);
      view.setUint32(104, lineInfo.byteLength / 16, true);
    }
  }
  view.setUint32(108, opts.attachBtfId ?? 0, true);
  view.setUint32(112, opts.attachBtfObjFd ?? 0, true);

  const { fd, log } = loadWithLog(BpfCommand.BPF_PROG_LOAD, attr, { level: 24, size: 28, buf: 32, trueSize: 140 }, opts);
  return new LoadedProgram(fd, log, type);
}

export interface TestRunOptions {
  /** Packet (or other input data); XDP needs at least 14 bytes. */
  data?: Uint8Array;
  /** Size of the output buffer; defaults to the input size plus 4 KiB of room to grow. */
  dataSizeOut?: number;
  /** Context passed in (`xdp_md`, `__sk_buff`, syscall args...). */
  ctxIn?: Uint8Array;
  /** Size of the context returned, or `true` for the size of `ctxIn`. */
  ctxOut?: number | boolean;
  /** Runs the program this many times (0 = once; must be 0 for syscall and raw_tp). */
  repeat?: number;
  flags?: number;
  cpu?: number;
  batchSize?: number;
}

export interface TestRunResult {
  /** The program's return value (32 bits, unsigned). */
  retval: number;
  /** The data after the run, as long as the kernel says it is. */
  dataOut: Uint8Array;
  /** Time per run in nanoseconds, as the kernel reports it. */
  duration: number;
  ctxOut?: Uint8Array;
}

/** Runs a loaded program once (or `repeat` times) with BPF_PROG_TEST_RUN. */
export function progTestRun(prog: number | LoadedProgram, opts: TestRunOptions = {}): TestRunResult {
  const fd = typeof prog === 'number' ? prog : prog.fd;
  const data = opts.data ?? new Uint8Array(0);
  const out = new Uint8Array(opts.dataSizeOut ?? (data.byteLength ? data.byteLength + 4096 : 0));
  const ctxIn = opts.ctxIn ?? new Uint8Array(0);
  const ctxOutSize = opts.ctxOut === true ? ctxIn.byteLength : typeof opts.ctxOut === 'number' ? opts.ctxOut : 0;
  const ctxOut = new Uint8Array(ctxOutSize);

  const attr = new Uint8Array(TEST_RUN_ATTR_SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(0, fd, true);
  view.setUint32(8, data.byteLength, true);
  view.setUint32(12, out.byteLength, true);
  view.setBigUint64(16, addressOf(data), true);
  view.setBigUint64(24, addressOf(out), true);
  view.setUint32(32, opts.repeat ?? 0, true);
  view.setUint32(40, ctxIn.byteLength, true);
  view.setUint32(44, ctxOut.byteLength, true);
  view.setBigUint64(48, addressOf(ctxIn), true);
  view.setBigUint64(56, addressOf(ctxOut), true);
  view.setUint32(64, opts.flags ?? 0, true);
  view.setUint32(68, opts.cpu ?? 0, true);
  view.setUint32(72, opts.batchSize ?? 0, true);

  const ret = bpfRaw(BpfCommand.BPF_PROG_TEST_RUN, attr);
  if (ret < 0) {
    const errno = -ret;
    const detail =
      errno === ENOSPC
        ? `the output needs ${view.getUint32(12, true)} bytes of data and ${view.getUint32(44, true)} of ctx, ` +
          `the buffers have ${out.byteLength} and ${ctxOut.byteLength}`
        : undefined;
    throw new KernelError('BPF_PROG_TEST_RUN', errno, '', detail);
  }
  const result: TestRunResult = {
    retval: view.getUint32(4, true),
    dataOut: out.slice(0, Math.min(out.byteLength, view.getUint32(12, true))),
    duration: view.getUint32(36, true),
  };
  if (ctxOutSize) result.ctxOut = ctxOut.slice(0, Math.min(ctxOutSize, view.getUint32(44, true)));
  return result;
}
