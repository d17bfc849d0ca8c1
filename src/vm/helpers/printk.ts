/**
 * The printf-like helpers: bpf_trace_printk, bpf_trace_vprintk, bpf_snprintf,
 * bpf_seq_printf and bpf_seq_write. Formatting is `./format.ts`.
 */
import { bprintf, bprintfWhole, MAX_BPRINTF_BUF, MAX_BPRINTF_VARARGS, type FormatResult } from './format.js';
import { printkOf, seqOf } from './host.js';
import { Errno, err, helper, pointer, readArg, readCString, ret, u32 } from './memory.js';
import type { HelperDef, HelperEnv } from './registry.js';

const decoder = new TextDecoder();
/** Longer bpf_seq_printf output overflows any seq_file (the kernel's buffers are far smaller). */
const SEQ_MAX = 1 << 22;

/** The format string of a (fmt, fmt_size) pair: its bytes before the first NUL, or null without one. */
function sizedFormat(env: HelperEnv, name: string, fmt: bigint, size: bigint): Uint8Array | null {
  const bytes = readArg(env, name, 'fmt', fmt, u32(size));
  const nul = bytes.indexOf(0);
  return nul < 0 ? null : bytes.subarray(0, nul);
}

/** The u64 arguments of a (data, data_len) pair, or an errno for a bad length. */
function argArray(env: HelperEnv, name: string, data: bigint, dataLen: bigint): bigint[] | number {
  const len = u32(dataLen);
  const bytes = data !== 0n && len > 0 ? readArg(env, name, 'data', data, len) : new Uint8Array(0);
  if (len % 8 !== 0 || len > MAX_BPRINTF_VARARGS * 8 || (len > 0 && data === 0n)) return Errno.EINVAL;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const args: bigint[] = [];
  for (let k = 0; k < len; k += 8) args.push(view.getBigUint64(k, true));
  return args;
}

/** Prints one trace line; returns what the kernel returns (the length of the whole line). */
function trace(env: HelperEnv, name: string, r: FormatResult): bigint {
  if ('errno' in r) return err(r.errno);
  printkOf(env, name)(decoder.decode(r.bytes));
  return ret(r.length);
}

export const traceVprintk = helper(177, 'trace_vprintk', (env, fmt, fmtSize, data, dataLen) => {
  printkOf(env, 'trace_vprintk');
  const f = sizedFormat(env, 'trace_vprintk', fmt, fmtSize);
  const args = argArray(env, 'trace_vprintk', data, dataLen);
  if (typeof args === 'number') return err(args);
  if (f === null) return err(Errno.EINVAL);
  return trace(env, 'trace_vprintk', bprintf(env, f, args, MAX_BPRINTF_BUF));
});

export const tracePrintk = helper(6, 'trace_printk', (env, fmt, fmtSize, a1, a2, a3) => {
  printkOf(env, 'trace_printk');
  const f = sizedFormat(env, 'trace_printk', fmt, fmtSize);
  if (f === null) return err(Errno.EINVAL);
  return trace(env, 'trace_printk', bprintf(env, f, [a1, a2, a3], MAX_BPRINTF_BUF));
});

export const snprintf = helper(165, 'snprintf', (env, str, strSize, fmt, data, dataLen) => {
  const size = u32(strSize);
  const out = pointer(env, 'snprintf', 'str', str, size, true);
  const f = readCString(env, 'snprintf', 'fmt', fmt);
  const args = argArray(env, 'snprintf', data, dataLen);
  if (typeof args === 'number') return err(args);
  const r = bprintf(env, f, args, size);
  if ('errno' in r) return err(r.errno);
  if (size > 0) {
    env.space.u8.set(r.bytes, out);
    env.space.u8[out + r.bytes.length] = 0;
  }
  return ret(r.length + 1);
});

export const seqPrintf = helper(126, 'seq_printf', (env, _m, fmt, fmtSize, data, dataLen) => {
  const seq = seqOf(env, 'seq_printf');
  const f = sizedFormat(env, 'seq_printf', fmt, fmtSize);
  const args = argArray(env, 'seq_printf', data, dataLen);
  if (typeof args === 'number') return err(args);
  if (f === null) return err(Errno.EINVAL);
  const r = bprintfWhole(env, f, args, SEQ_MAX);
  if ('errno' in r) return err(r.errno);
  return r.bytes.length === r.length && seq.write(r.bytes) ? 0n : err(Errno.EOVERFLOW);
});

export const seqWrite = helper(127, 'seq_write', (env, _m, data, len) => {
  const seq = seqOf(env, 'seq_write');
  const bytes = readArg(env, 'seq_write', 'data', data, u32(len));
  return seq.write(bytes) ? 0n : err(Errno.EOVERFLOW);
});

/** bpf_trace_printk, bpf_trace_vprintk, bpf_snprintf, bpf_seq_printf, bpf_seq_write. */
export const printkHelpers = (): HelperDef[] => [tracePrintk, seqPrintf, seqWrite, snprintf, traceVprintk];
