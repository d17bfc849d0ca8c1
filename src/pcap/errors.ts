import { TsbpfError } from '../errors.js';

/**
 * A malformed or unsupported capture file, or a packet the writer cannot
 * store. `offset` is the byte offset in the file where the problem is
 * (for the writer: in the output); `packet` is the packet's index when one
 * is involved.
 */
export class CaptureError extends TsbpfError {
  readonly offset: number;
  constructor(offset: number, why: string, where: { packet?: number; block?: number } = {}) {
    super('EPCAP', `capture@0x${offset.toString(16)}: ${why}`, { offset, ...where });
    this.name = 'CaptureError';
    this.offset = offset;
  }
}
