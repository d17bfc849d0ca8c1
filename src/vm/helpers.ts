import type { AddressSpace } from './address-space.js';

/**
 * What the code around a run (a collection, a hook) gives its helpers: the
 * current virtual CPU and whatever else they need (maps, the hook's context,
 * output streams). Modules that provide helpers define the fields they read.
 */
export interface RunHost {
  /** The virtual CPU the run is on (percpu maps, `get_smp_processor_id`). */
  cpu: number;
  readonly [field: string]: unknown;
}

/** What a helper sees of the VM. */
export interface HelperEnv {
  readonly space: AddressSpace;
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
  get(id: number): HelperDef | undefined {
    return this.byId.get(id);
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

const now = (): bigint => BigInt(Math.round(globalThis.performance.now() * 1e6));
const bootOffset = BigInt(Date.now()) * 1_000_000n - now();

/** The helpers every VM starts with. */
export function defaultHelpers(): HelperRegistry {
  return new HelperRegistry()
    .register({ id: 5, name: 'ktime_get_ns', fn: () => now() })
    .register({ id: 7, name: 'get_prandom_u32', fn: () => BigInt((Math.random() * 0x100000000) >>> 0) })
    .register({ id: 8, name: 'get_smp_processor_id', fn: (env) => BigInt(env.host.cpu) })
    .register({ id: 125, name: 'ktime_get_boot_ns', fn: () => now() + bootOffset });
}
