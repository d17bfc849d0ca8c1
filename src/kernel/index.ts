/**
 * The kernel backend: programs, maps, BTF and whole objects (ObjectSpec →
 * KernelCollection) in the running Linux kernel through bpf(2), plus
 * test-run. Node-only; importing it never loads the FFI.
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
  type FuncInfoRecord,
  type LineInfoRecord,
  type CoreReloRecord,
} from './prog.js';
export { KernelMap, type MapValue } from './map.js';
export { mapInfo, progInfo, type MapInfo, type ProgInfo } from './info.js';
export {
  type MapDefinition,
  type MapCreateOptions,
  createMapFd,
  sanitizeObjectName,
  isPerCpuMap,
} from './map-create.js';
export { possibleCpus, parseCpuList } from './cpus.js';
export { btfLoad, LoadedBtf, appendBtfStrings, type BtfLoadOptions } from './btf-load.js';
export { sanitizeBtf, type SanitizeReport } from './sanitize.js';
export { relocate, funcInfoRecords, lineInfoRecords, coreReloRecords, RelocationError } from './relocate.js';
export { kconfigData, kernelConfig, parseKernelConfig, kernelVersionCode, KconfigError } from './kconfig.js';
export { vmlinuxBtf, vmlinuxTypeId, attachBtfId, kallsymsAddress } from './vmlinux.js';
export { loadCollection, KernelCollection, type LoadCollectionOptions } from './object-load.js';
export { probeKernel, type KernelProbe } from './probe.js';
export {
  RingBufReader,
  RingBufError,
  RINGBUF_BUSY_BIT,
  RINGBUF_DISCARD_BIT,
  RINGBUF_HDR_SIZE,
  pageSize,
} from './ringbuf.js';
