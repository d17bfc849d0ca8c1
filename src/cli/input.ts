import { closeSync, openSync, readSync } from 'node:fs';
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

/** Largest input file read: bigger ones (or endless ones like /dev/zero) are refused. */
export const MAX_INPUT = 64 * 1024 * 1024;

/** Reads a file (or stdin for `-`), refusing more than `limit` bytes. */
export function readInput(path: string, limit = MAX_INPUT): Uint8Array {
  let fd: number;
  try {
    fd = path === '-' ? 0 : openSync(path, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(path, err.code === 'ENOENT' ? 'no such file' : err.message);
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(65536);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EAGAIN') continue;
        if (err.code === 'EOF') break;
        throw new InputError(path, err.code === 'EISDIR' ? 'is a directory' : err.message);
      }
      if (n === 0) break;
      total += n;
      if (total > limit) throw new InputError(path, `larger than ${limit / (1024 * 1024)} MiB, the most tsbpf reads`);
      chunks.push(chunk.subarray(0, n));
    }
    return new Uint8Array(Buffer.concat(chunks, total));
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/**
 * True when the bytes look like text (assembly) rather than bytecode: no NUL
 * and no control characters but tab, newline, vertical tab, form feed and
 * carriage return. Bytecode nearly always holds a zero byte.
 */
export function looksLikeText(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b < 0x20 && (b < 0x09 || b > 0x0d)) return false;
    if (b === 0x7f) return false;
  }
  return true;
}

/** Loads a program file: raw little-endian bytecode or assembly text. */
export function loadProgram(path: string): { insns: Instruction[]; kind: 'bytecode' | 'assembly' } {
  const bytes = readInput(path);
  if (looksLikeText(bytes)) return { insns: assemble(new TextDecoder().decode(bytes)), kind: 'assembly' };
  return { insns: decode(bytes), kind: 'bytecode' };
}

