// The portable core: no Node-only API, safe to bundle for a browser.
export { TsbpfError, isTsbpfError } from './errors.js';
export * from './isa/index.js';
export * from './asm/index.js';
export * from './vm/index.js';
