// eBPF objects: ObjectSpec from libbpf-style ELF files (programs by SEC() name, maps, global data, externs, linking).
export { loadObject } from './load.js';
export { ObjectError } from './errors.js';
export { programKind, knownSections } from './sections.js';
export type { ProgramKind } from './sections.js';
export { internalMapName } from './globals.js';
export { newMapSpec } from './maps.js';
export * from './kinds.js';
export type * from './spec.js';
