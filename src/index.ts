// The public API of the tsbpf package.
export { TsbpfError, isTsbpfError } from './errors.js';
export * from './isa/index.js';
export * from './asm/index.js';
export * from './elf/index.js';
export * from './btf/index.js';
export * from './object/index.js';
export * from './pcap/index.js';
export * from './vm/index.js';
export * as maps from './vm/maps/index.js';
export * as hooks from './vm/hooks/index.js';
export * as helpers from './vm/helpers/index.js';
export * from './api/node.js';
export * from './kernel/index.js';
