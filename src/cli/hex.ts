import { TsbpfError } from '../errors.js';

export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Parses hex bytes, with or without spaces between them. */
export function parseHex(text: string, what: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new TsbpfError('EUSAGE', `${what} is not hex bytes: ${JSON.stringify(text.slice(0, 60))}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}
