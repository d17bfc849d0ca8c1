import { release } from 'node:os';
import { OP_EXIT, insn } from '../isa/index.js';
import { ProgType, XdpAction } from './constants.js';
import { KernelError, KernelUnavailableError } from './errors.js';
import { progLoad, progTestRun } from './prog.js';
import { ffiUnavailable } from './syscall.js';

export interface KernelProbe {
  /** True when programs can be loaded and test-run in this process. */
  usable: boolean;
  /** Why not, in words, when `usable` is false. */
  reason?: string;
  details: {
    platform: string;
    arch: string;
    /** `uname -r`-style release, when known. */
    release?: string;
    ffi: boolean;
    /** errno name of the failing step, if a bpf(2) call failed. */
    errno?: string;
    /** Time per run of the probe program, in ns. */
    testRunNs?: number;
  };
}

let cached: KernelProbe | undefined;

const HINTS: Readonly<Record<string, string>> = {
  EPERM: 'needs CAP_BPF (run as root)',
  EACCES: 'the verifier refused even a trivial program (lockdown or a restricted kernel?)',
  ENOSYS: 'the kernel is built without CONFIG_BPF_SYSCALL',
  EINVAL: 'the kernel does not know XDP programs or this bpf_attr layout (too old?)',
  ENOTSUPP: 'BPF_PROG_TEST_RUN is not supported for XDP here',
  EOPNOTSUPP: 'BPF_PROG_TEST_RUN is not supported for XDP here',
};

/**
 * Checks once per process whether the kernel's eBPF can be used: Linux,
 * a known syscall number, koffi loads, and the XDP program `r0 = 2; exit`
 * loads and test-runs with a 64-byte packet, returning 2.
 */
export function probeKernel(): KernelProbe {
  if (cached) return cached;
  const details: KernelProbe['details'] = { platform: process.platform, arch: process.arch, ffi: false };
  cached = run(details);
  return cached;
}

function run(details: KernelProbe['details']): KernelProbe {
  if (process.platform !== 'linux') return { usable: false, reason: `not Linux (platform is ${process.platform})`, details };
  details.release = release();
  const noFfi = ffiUnavailable();
  if (noFfi) return { usable: false, reason: noFfi, details };
  details.ffi = true;
  try {
    const prog = progLoad({
      type: ProgType.XDP,
      insns: [insn(0xb7, { dst: 0, imm: XdpAction.PASS }), insn(OP_EXIT)],
      name: 'tsbpf_probe',
    });
    try {
      const r = progTestRun(prog, { data: new Uint8Array(64) });
      details.testRunNs = r.duration;
      if (r.retval !== XdpAction.PASS || r.dataOut.byteLength !== 64) {
        return {
          usable: false,
          reason: `BPF_PROG_TEST_RUN of "r0 = 2; exit" gave retval ${r.retval} and ${r.dataOut.byteLength} bytes, expected 2 and 64`,
          details,
        };
      }
    } finally {
      prog.close();
    }
  } catch (e) {
    if (e instanceof KernelError) {
      details.errno = e.errnoName;
      const hint = HINTS[e.errnoName];
      const reason = `${e.command === 'BPF_PROG_LOAD' ? 'bpf(2)' : e.command} returned ${e.errnoName}` + (hint ? `: ${hint}` : '');
      return { usable: false, reason, details };
    }
    if (e instanceof KernelUnavailableError) return { usable: false, reason: String(e.where['reason']), details };
    return { usable: false, reason: `probing the kernel failed: ${(e as Error).message}`, details };
  }
  return { usable: true, details };
}
