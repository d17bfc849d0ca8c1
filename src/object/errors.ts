import { TsbpfError } from '../errors.js';

/**
 * An eBPF object that is well-formed ELF but breaks libbpf's conventions: an
 * unknown program section, a bad relocation, a malformed map definition...
 * `section` is the ELF section and `offset` the byte offset inside it.
 */
export class ObjectError extends TsbpfError {
  readonly section: string;
  readonly offset: number;
  constructor(section: string, offset: number, why: string, extra: Record<string, unknown> = {}) {
    super('EOBJECT', `${section}+0x${offset.toString(16)}: ${why}`, { section, offset, ...extra });
    this.name = 'ObjectError';
    this.section = section;
    this.offset = offset;
  }
}
