/**
 * bpf_tail_call(ctx, prog_array, index). In the kernel a successful tail call
 * replaces the running program and never returns; in the vm the helper ends
 * the run with `RunExit('tail_call', TailCall)` and whoever started the run
 * (a collection, a hook) runs `program` next with r1 = `ctx` and
 * `host.tailCalls = count`. A failed tail call returns a negative error and
 * the program goes on, as in the kernel: -E2BIG for an index past the end,
 * -ELOOP once MAX_TAIL_CALL_CNT tail calls were taken, -ENOENT for an empty slot.
 */
import { RunExit } from '../errors.js';
import { ProgArrayMap, type ProgramRef } from '../maps/index.js';
import { helperError, numberField } from './host.js';
import { mapArg } from './maps.js';
import { Errno, err, helper, u32 } from './memory.js';
import type { HelperDef } from './registry.js';

/** Tail calls one chain may take (the kernel's MAX_TAIL_CALL_CNT). */
export const MAX_TAIL_CALL_CNT = 33;

/** The `data` of the RunExit a successful tail call throws. */
export interface TailCall {
  /** The program in the slot: run it next. */
  readonly program: ProgramRef;
  readonly map: ProgArrayMap;
  readonly index: number;
  /** r1 of the call: the context the next program starts with. */
  readonly ctx: bigint;
  /** Tail calls taken so far, this one included: the next run's `host.tailCalls`. */
  readonly count: number;
}

export const tailCall = helper(12, 'tail_call', (env, ctx, map, index) => {
  const m = mapArg(env, 'tail_call', map);
  if (!(m instanceof ProgArrayMap)) throw helperError(env, 'tail_call', `map ${m.name} is a ${m.typeName}, not a PROG_ARRAY`);
  const i = u32(index);
  if (i >= m.maxEntries) return err(Errno.E2BIG);
  const count = numberField(env, 'tail_call', 'tailCalls', 0);
  if (count >= MAX_TAIL_CALL_CNT) return err(Errno.ELOOP);
  const program = m.getProgram(i);
  if (program === null) return err(Errno.ENOENT);
  const data: TailCall = { program, map: m, index: i, ctx, count: count + 1 };
  throw new RunExit('tail_call', data);
});

/** bpf_tail_call. */
export const tailCallHelpers = (): HelperDef[] => [tailCall];
