import { TsbpfError } from '../errors.js';

/** A malformed `.BTF` or `.BTF.ext` section: names the section and the byte offset in it. */
export class BtfError extends TsbpfError {
  constructor(readonly section: '.BTF' | '.BTF.ext', readonly offset: number, why: string) {
    super('EBTF', `${section}+0x${offset.toString(16)}: ${why}`, { section, offset });
    this.name = 'BtfError';
  }
}
