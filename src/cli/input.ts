import { readFileSync } from 'node:fs';
import { assemble } from '../asm/index.js';
import { TsbpfError } from '../errors.js';
import { decode, type Instruction } from '../isa/index.js';
export { toHex, parseHex } from './hex.js';

/** A file that could not be read. */
export class InputError extends TsbpfError {
  constructor(path: string, reason: string) {
    super('EIO', `${path}: ${reason}`, { path });
  }
}

export function readInput(path: string): Uint8Array {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(path, err.code === 'ENOENT' ? 'no such file' : err.message);
  }
}

/** True when the bytes look like text (assembly) rather than bytecode. */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return true;
  for (const b of bytes) {
    if (b === 0) return false;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Loads a program file: raw little-endian bytecode or assembly text. */
export function loadProgram(path: string): { insns: Instruction[]; kind: 'bytecode' | 'assembly' } {
  const bytes = readInput(path);
  if (looksLikeText(bytes)) return { insns: assemble(new TextDecoder().decode(bytes)), kind: 'assembly' };
  return { insns: decode(bytes), kind: 'bytecode' };
}

