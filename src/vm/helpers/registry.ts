/**
 * The helper calling convention and the registry of helpers by the kernel's
 * helper ids (`enum bpf_func_id`). `../helpers.ts` re-exports all of it.
 */
import type { AddressSpace } from '../address-space.js';

/**
 * What the code around a run (a collection, a hook) gives its helpers: the
 * current virtual CPU and whatever else they need (maps, the hook's context,
 * output streams). Modules that provide helpers define the fields they read
 * (see `HelperHost` in `./host.ts` for the common ones).
 */
export interface RunHost {
  /** The virtual CPU the run is on (percpu maps, `get_smp_processor_id`). */
  cpu: number;
  readonly [field: string]: unknown;
}

/** What a helper sees of the VM. */
export interface HelperEnv {
  readonly space: AddressSpace;
  /**
   * The instruction index of the call in progress, for the faults a helper
   * raises (a bad pointer argument). Engines set it; absent in hand-made envs.
   */
  readonly pc?: number;
  /** Charges `n` instructions to the run's budget (for helpers that loop). */
  charge(n: number): void;
  /**
   * Calls the running program's BPF function at `fn` (a value `lddw rX,
   * func` produced) with r1-r5 = `args` in the next stack frame, and returns
   * its r0: how `bpf_loop` and `for_each_map_elem` run their callbacks. The
   * callee's instructions count against the run's budget.
   */
  callback(fn: bigint, args: readonly bigint[]): bigint;
  /** The host of the run in progress. */
  host: RunHost;
}

/** A helper: r1-r5 in, r0 out, all as unsigned 64-bit bigints. */
export type HelperFn = (env: HelperEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint) => bigint;

export interface HelperDef {
  /** The kernel's helper id (`enum bpf_func_id`). */
  readonly id: number;
  readonly name: string;
  readonly fn: HelperFn;
}

/** Helpers by the kernel's numbering. */
export class HelperRegistry {
  private readonly byId = new Map<number, HelperDef>();

  register(def: HelperDef): this {
    this.byId.set(def.id, def);
    return this;
  }
  /** Registers every helper of `defs` (a family), replacing any with the same id. */
  registerAll(defs: Iterable<HelperDef>): this {
    for (const d of defs) this.register(d);
    return this;
  }
  get(id: number): HelperDef | undefined {
    return this.byId.get(id);
  }
  /** The helper registered under `name` (without the `bpf_` prefix), if any. */
  byName(name: string): HelperDef | undefined {
    const bare = name.startsWith('bpf_') ? name.slice(4) : name;
    for (const d of this.byId.values()) if (d.name === bare) return d;
    return undefined;
  }
  list(): HelperDef[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
  clone(): HelperRegistry {
    const r = new HelperRegistry();
    for (const d of this.byId.values()) r.register(d);
    return r;
  }
}
