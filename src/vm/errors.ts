import { TsbpfError } from '../errors.js';

/** Stable codes for the ways a run can end abnormally. */
export type FaultCode =
  | 'EFAULT' // memory access outside every region, or a write to a read-only region
  | 'EBUDGET' // the instruction budget ran out
  | 'ECALLDEPTH' // more than 8 nested bpf-to-bpf frames
  | 'EHELPER' // call to an unknown helper or kfunc, or a helper that failed
  | 'EPSEUDO' // lddw pseudo source the vm cannot resolve (map fd, BTF id...)
  | 'EBADPROG'; // control left the program, or another structural problem found at run time

/**
 * A run that ended abnormally. `insn` is the slot index of the instruction that
 * faulted; `address` and `region` are set for memory faults.
 */
export class VmFault extends TsbpfError {
  readonly insn: number;
  readonly address: bigint | null;
  readonly region: string | null;
  /** With tracing on: the steps up to and including the faulting one. */
  trace?: import('./interpreter.js').TraceStep[];
  constructor(code: FaultCode, message: string, insn: number, address: bigint | null = null, region: string | null = null) {
    super(code, `instruction ${insn}: ${message}`, { insn, address, region });
    this.insn = insn;
    this.address = address;
    this.region = region;
  }
}

/**
 * Thrown by a helper to end the run at once without a fault, as
 * `bpf_tail_call` does: the engines let it through untouched, and whoever
 * started the run (a collection, a hook) catches it and acts on `data`.
 */
export class RunExit {
  constructor(readonly reason: string, readonly data: unknown) {}
}
