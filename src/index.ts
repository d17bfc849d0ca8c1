// The public API of the tsbpf package.
export { TsbpfError, isTsbpfError } from './errors.js';
export * from './isa/index.js';
export * from './asm/index.js';
export * from './vm/index.js';
export * from './kernel/index.js';
