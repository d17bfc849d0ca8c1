/**
 * Socket filters: a program sees the frame from its network header (the
 * Ethernet header already pulled) through `struct __sk_buff`, as Linux's
 * BPF_PROG_TEST_RUN shows it, and answers with how many bytes to keep
 * (0 drops the packet).
 */
import type { AddressSpace, Region } from '../address-space.js';
import type { HelperDef } from '../helpers.js';
import type { RunFn } from './common.js';
import { SkbRunner, type SkbOutput, type SkbRunOptions } from './skb.js';
import { socketFilterHelpers } from './skb-helpers.js';
import { SOCKET_FILTER_HELPERS } from './allowed.js';

export interface SocketFilterResult extends SkbOutput {
  /** r0 as an unsigned 32-bit value: the bytes to keep. */
  retval: number;
  verdict: 'accept' | 'drop';
  /** Bytes the socket would receive: min(retval, len). */
  keep: number;
}

/** A socket filter attachment point in one address space: ctx and buffer are mapped once. */
export class SocketFilterHook {
  static readonly allowedHelpers: readonly number[] = SOCKET_FILTER_HELPERS;
  private readonly runner: SkbRunner;

  constructor(readonly space: AddressSpace, name = 'socket') {
    this.runner = new SkbRunner(space, false, name);
  }

  get ctx(): Region {
    return this.runner.ctx;
  }
  get buffer(): Region {
    return this.runner.buffer;
  }

  /** The packet helpers socket filters call (register them with the common ones). */
  helpers(): HelperDef[] {
    return socketFilterHelpers();
  }

  run(frame: Uint8Array, runFn: RunFn, opts: SkbRunOptions = {}): SocketFilterResult {
    const out = this.runner.run(frame, runFn, opts);
    const retval = Number(out.r0 & 0xffffffffn);
    return { ...out, retval, verdict: retval === 0 ? 'drop' : 'accept', keep: Math.min(retval, out.packet.length) };
  }
}
