import { TsbpfError } from '../errors.js';

/**
 * A malformed ELF file. `section` names the part that is wrong (a section
 * name, `#index` when the name is not known yet, or `<header>`), and `offset`
 * is the byte offset in the file.
 */
export class ElfError extends TsbpfError {
  readonly section: string;
  readonly offset: number;
  constructor(section: string, offset: number, why: string) {
    super('EELF', `${section}@0x${offset.toString(16)}: ${why}`, { section, offset });
    this.name = 'ElfError';
    this.section = section;
    this.offset = offset;
  }
}
