/**
 * `BPF_MAP_TYPE_PROG_ARRAY`: programs by index, for `bpf_tail_call`. The vm
 * stores whatever program reference the collection supplies; `getProgram`
 * is what the tail-call helper asks. Programs cannot look up, update or
 * delete slots (the kernel's verifier allows only the tail call).
 */
import { u32At, u32Bytes } from './map.js';
import { FdArray } from './fd-array.js';

/** A program as a collection hands it to a prog_array: opaque to the map. */
export interface ProgramRef {
  readonly name: string;
  /** What bpf(2) lookups return for the slot (the kernel's program id); 0 when absent. */
  readonly id?: number;
}

export class ProgArrayMap<P extends ProgramRef = ProgramRef> extends FdArray<P> {
  protected get what(): string {
    return 'program';
  }

  /** The program in slot `index`, or null (empty or past the end): what a tail call jumps to. */
  getProgram(index: number | bigint): P | null {
    const i = typeof index === 'bigint' ? (index < BigInt(this.maxEntries) ? Number(index) : -1) : index;
    return this.slot(i);
  }

  /** Puts a program in slot `index` (null empties it). Throws E2BIG past the end. */
  setProgram(index: number, prog: P | null, flags: number | bigint = 0): void {
    this.setSlot(index, prog, flags, 'update');
  }

  /** bpf(2) lookup: the program's id (u32), null for an empty slot. */
  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.canRead('lookup');
    const p = this.slot(u32At(this.userKey(key, 'lookup')));
    return p ? u32Bytes(p.id ?? 0) : null;
  }
}
