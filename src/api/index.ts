// The user-facing layer over objects and backends: `load(spec, { backend })`
// gives one `Collection` interface over the vm and the kernel; typed maps
// and skeletons build on it. This module is portable (no Node API): the
// kernel backend registers itself from `./node.js`, which the Node entry
// (`tsbpf`) exports.
import './backend-vm.js';
export { load, registerBackend, BACKENDS, BackendOptionError } from './collection.js';
export type {
  BackendLoader,
  BackendName,
  Collection,
  CollectionMap,
  CollectionProgram,
  LoadOptions,
  MapValueInput,
  TestRunInput,
  TestRunOutput,
} from './collection.js';
export { CollectionError } from './errors.js';
export { VmBackendCollection, VmBackendMap, VmBackendProgram } from './backend-vm.js';
export { TypedMap, vmRawMap } from './typed-map.js';
export type { RawMap, TypedMapLayout } from './typed-map.js';
export { openSkeleton, sectionKey } from './skeleton.js';
export type { Skeleton, SkeletonOptions } from './skeleton.js';
