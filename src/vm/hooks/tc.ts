/**
 * tc (`sched_cls` / `sched_act`): a program sees the frame from its Ethernet
 * header through `struct __sk_buff`, as Linux's BPF_PROG_TEST_RUN shows it,
 * may rewrite it with the skb helpers, and answers with a TC_ACT_* code.
 */
import type { AddressSpace, Region } from '../address-space.js';
import type { HelperDef } from '../helpers.js';
import type { RunFn } from './common.js';
import { SkbRunner, type SkbOutput, type SkbRunOptions } from './skb.js';
import { tcHelpers } from './skb-helpers.js';
import { TC_HELPERS } from './allowed.js';

export const TcAction = {
  UNSPEC: -1, OK: 0, RECLASSIFY: 1, SHOT: 2, PIPE: 3, STOLEN: 4, QUEUED: 5, REPEAT: 6, REDIRECT: 7, TRAP: 8,
} as const;
export type TcActionName =
  | 'TC_ACT_UNSPEC' | 'TC_ACT_OK' | 'TC_ACT_RECLASSIFY' | 'TC_ACT_SHOT' | 'TC_ACT_PIPE' | 'TC_ACT_STOLEN'
  | 'TC_ACT_QUEUED' | 'TC_ACT_REPEAT' | 'TC_ACT_REDIRECT' | 'TC_ACT_TRAP' | `UNKNOWN(${number})`;

const NAMES: readonly TcActionName[] = [
  'TC_ACT_OK', 'TC_ACT_RECLASSIFY', 'TC_ACT_SHOT', 'TC_ACT_PIPE', 'TC_ACT_STOLEN', 'TC_ACT_QUEUED',
  'TC_ACT_REPEAT', 'TC_ACT_REDIRECT', 'TC_ACT_TRAP',
];

/** The name of a tc verdict (the program's r0 as a signed 32-bit value). */
export function tcActionName(action: number): TcActionName {
  if (action === -1) return 'TC_ACT_UNSPEC';
  return NAMES[action] ?? `UNKNOWN(${action})`;
}

export interface TcResult extends SkbOutput {
  /** r0 as a signed 32-bit value: -1 (UNSPEC) to 8 (TRAP) are known. */
  action: number;
  actionName: TcActionName;
  /** Set when the verdict is TC_ACT_REDIRECT after `bpf_redirect`. */
  redirect?: { ifindex: number; ingress: boolean };
}

/** A tc attachment point in one address space: ctx and buffer are mapped once. */
export class TcHook {
  static readonly allowedHelpers: readonly number[] = TC_HELPERS;
  private readonly runner: SkbRunner;

  constructor(readonly space: AddressSpace, name = 'tc') {
    this.runner = new SkbRunner(space, true, name);
  }

  get ctx(): Region {
    return this.runner.ctx;
  }
  get buffer(): Region {
    return this.runner.buffer;
  }

  /** The packet helpers tc programs call (register them with the common ones). */
  helpers(): HelperDef[] {
    return tcHelpers();
  }

  run(frame: Uint8Array, runFn: RunFn, opts: SkbRunOptions = {}): TcResult {
    const out = this.runner.run(frame, runFn, opts);
    const action = Number(BigInt.asIntN(32, out.r0));
    const result: TcResult = { ...out, action, actionName: tcActionName(action) };
    const redirect = this.runner.state.redirect;
    if (action === TcAction.REDIRECT && redirect !== null) result.redirect = redirect;
    return result;
  }
}
