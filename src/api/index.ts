// The user-facing layer over objects and backends: typed maps and skeletons.
export { TypedMap, vmRawMap } from './typed-map.js';
export type { RawMap, TypedMapLayout } from './typed-map.js';
export { openSkeleton, sectionKey } from './skeleton.js';
export type { Skeleton, SkeletonOptions } from './skeleton.js';
