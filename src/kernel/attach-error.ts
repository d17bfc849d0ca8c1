import { TsbpfError } from '../errors.js';

/**
 * An attachment that cannot be made for a reason other than a bpf(2) or
 * perf_event_open(2) errno (those are `KernelError`s): an unknown
 * tracepoint, a symbol missing from a binary, a section that names no
 * target, a kernel without the needed event source. Codes:
 * - `ENOTRACEPOINT`: tracefs has no such event;
 * - `ENOSYMBOL`: the ELF binary does not define the function;
 * - `EUPROBEBINARY`: the binary is not a readable ELF64 file;
 * - `ENOUPROBE`, `ENOKPROBE`: the kernel has no uprobe / kprobe PMU;
 * - `ENOTRACEFS`: tracefs is not mounted and mounting it was not allowed;
 * - `ENOAUTOATTACH`: the program's section does not say how to attach it;
 * - `EATTACHARG`: a malformed argument (tracepoint name, offset...).
 */
export class AttachError extends TsbpfError {
  constructor(code: string, message: string, where: Record<string, unknown>) {
    super(code, message, where);
  }
}

/**
 * kprobes cannot be attached: the kernel has no kprobe PMU (it is built
 * without CONFIG_KPROBES), so neither perf_event_open nor tracefs
 * `kprobe_events` can create one.
 */
export class KprobeUnavailableError extends AttachError {
  constructor(fn: string, pmuDir: string) {
    super(
      'ENOKPROBE',
      `kprobes are unavailable on this kernel: there is no kprobe PMU (${pmuDir} is missing; the kernel is built ` +
        `without CONFIG_KPROBES), so "${fn}" cannot be probed. Use a tracepoint, raw_tp, tp_btf or a uprobe instead`,
      { function: fn, pmu: pmuDir },
    );
  }
}
