/**
 * The kernel oracle: load and test-run programs in the running Linux kernel
 * through bpf(2). Node-only; importing it never loads the FFI.
 */
export {
  BpfCommand,
  type BpfCommandName,
  ProgType,
  type ProgTypeName,
  ProgFlag,
  LogLevel,
  XdpAction,
  progTypeName,
  commandName,
  errnoName,
  errnoText,
  errnoNumber,
} from './constants.js';
export { KernelError, KernelUnavailableError } from './errors.js';
export { bpf, bpfRaw, closeFd, addressOf, ffiUnavailable } from './syscall.js';
export {
  progLoad,
  progTestRun,
  LoadedProgram,
  type ProgLoadOptions,
  type TestRunOptions,
  type TestRunResult,
} from './prog.js';
export { probeKernel, type KernelProbe } from './probe.js';
