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
export { Link, LinkType, linkTypeName, type LinkInfo, type LinkOptions } from './link.js';
export {
  attachXdp,
  attachTcx,
  attachTc,
  attachSocketFilter,
  XdpFlag,
  type XdpMode,
  type XdpAttachOptions,
  type TcDirection,
  type TcxAttachOptions,
  type TcAttachOptions,
  type NetAttachOptions,
  type NetAttachVia,
  type SocketRef,
} from './attach-net.js';
export { ifIndex, inNetns, netnsPath, NetDeviceError, type NetInterface } from './netns.js';
export { AttachError, KprobeUnavailableError } from './attach-error.js';
export {
  attachTracepoint,
  attachRawTracepoint,
  attachTracing,
  attachUprobe,
  attachKprobe,
  pmuType,
  pmuRetprobeBit,
  EVENT_SOURCES,
  type TracepointOptions,
  type RawTracepointOptions,
  type TracingOptions,
  type UprobeOptions,
  type KprobeOptions,
} from './attach-trace.js';
export {
  attachPerfEvent,
  attachPerfEventFd,
  perfEventOpen,
  perfIoctl,
  encodePerfEventAttr,
  onlineCpus,
  PerfType,
  SoftwareEvent,
  PERF_EVENT_IOC_ENABLE,
  PERF_EVENT_IOC_DISABLE,
  PERF_EVENT_IOC_SET_BPF,
  type SoftwareEventName,
  type PerfEventAttr,
  type PerfEventOptions,
  type PerfAttachOptions,
} from './perf-event.js';
export { attachIter, openIter, IterReader, type IterOptions } from './iter.js';
export { autoAttach, attachBySection, type AutoAttachOptions, type ProgramSource } from './auto-attach.js';
export { tracefs, releaseTracefs, tracefsMounts, Tracefs, TRACEFS_DEFAULT, type TracefsOptions } from './tracefs.js';
export { resolveUprobe, findBinary, type UprobeTarget } from './uprobe-resolve.js';
export { bpffs, bpffsMounts, isOnBpffs, assertPinPath, Bpffs, BpffsError, BPFFS_DEFAULT, BPF_FS_MAGIC, type BpffsOptions } from './bpffs.js';
export {
  pinObject,
  getPinned,
  getPinnedFd,
  openPinnedMap,
  openPinnedProgram,
  openPinnedLink,
  pinPathFor,
  pinMismatches,
  resolvePinnedMap,
  PinRegistry,
  PinnedObject,
  PinError,
  PinMismatchError,
  PinFileFlag,
  type PinMismatch,
  type GetPinnedOptions,
  type PinRegistryOptions,
} from './pin.js';
export { adoptMapFd, adoptProgFd, fdKind, type BpfObjectKind } from './adopt.js';
export {
  objectIds,
  progIds,
  mapIds,
  linkIds,
  btfIds,
  fdById,
  programById,
  mapById,
  linkById,
  listPrograms,
  listMaps,
  listLinks,
  programInfoById,
  mapInfoById,
  linkInfoById,
  detachLinkById,
  type IdKind,
} from './iterate.js';
export { progDetails, type ProgDetails } from './prog-details.js';
export { btfInfo, btfBytesById, btfById, type KernelBtfInfo } from './kernel-btf.js';
export {
  progTypeSupport,
  progTypeSupported,
  mapTypeSupport,
  mapTypeSupported,
  supportedHelpers,
  helperSupported,
  probeFeatures,
  clearFeatureCache,
  type FeatureOutcome,
  type FeatureReport,
  type FeatureProbeOptions,
  type SupportedHelper,
} from './features.js';
export { HELPER_NAMES, helperName } from './helper-names.js';
export { PerfEventArrayReader, PerfBufferError, type PerfSample, type PerfReaderOptions } from './perf-reader.js';
export { type EventsOptions } from './reader-events.js';
export { type WaitStrategy, WAIT_STRATEGIES, DEFAULT_WAIT_STRATEGY, WaitError } from './event-wait.js';
