import { TsbpfError } from '../errors.js';

/** An instruction encoding the ISA does not allow. */
export class DecodeError extends TsbpfError {
  readonly insn: number;
  readonly field: string;
  constructor(insn: number, field: string, reason: string) {
    super('EDECODE', `instruction ${insn}: invalid ${field}: ${reason}`, { insn, field });
    this.insn = insn;
    this.field = field;
  }
}
