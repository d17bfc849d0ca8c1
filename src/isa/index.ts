export * from './opcodes.js';
export * from './instruction.js';
export * from './validate.js';
export * from './codec.js';
export * from './targets.js';
export { DecodeError } from './errors.js';
