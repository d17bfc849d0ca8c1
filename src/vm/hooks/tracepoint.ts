/**
 * Custom tracepoints: the host defines named events whose ctx is a struct
 * (described by BTF, or just a size), programs attach to them, and `fire`
 * runs every attached program with r1 = the event's ctx, as a tracepoint
 * program's ctx is the event's record. Programs may read the ctx, not write it.
 */
import { Btf, encodeValue, type BtfInput } from '../../btf/index.js';
import type { AddressSpace, Region } from '../address-space.js';
import type { HelperDef, RunHost } from '../helpers.js';
import { HookError, type RunFn } from './common.js';
import { TRACING_HELPERS } from './allowed.js';

/** An event's ctx: a BTF type (by id or struct name), or raw bytes of a fixed size. */
export type TracepointLayout = { readonly size: number } | { readonly btf: Btf; readonly type: number | string };

export interface TracepointEvent {
  readonly name: string;
  readonly size: number;
  readonly btf: Btf | null;
  readonly typeId: number;
  /** The ctx region every firing fills. */
  readonly ctx: Region;
}

export interface FireOptions {
  /** The virtual CPU of the runs. */
  cpu?: number;
  /** More fields for `env.host` (printk, task, maps...). */
  host?: Readonly<Record<string, unknown>>;
}

interface Attached {
  readonly run: RunFn;
}

/** The tracepoints of one address space. */
export class Tracepoints {
  static readonly allowedHelpers: readonly number[] = TRACING_HELPERS;
  private readonly events = new Map<string, { event: TracepointEvent; progs: Attached[] }>();

  constructor(readonly space: AddressSpace) {}

  /** Tracepoint programs need no helpers beyond the common ones. */
  helpers(): HelperDef[] {
    return [];
  }

  /** Defines event `name` with a ctx of this layout; its region is mapped once, read-only for programs. */
  define(name: string, layout: TracepointLayout): TracepointEvent {
    if (this.events.has(name)) throw new HookError('EHOOK', `tracepoint ${name} is already defined`, { tracepoint: name });
    let btf: Btf | null = null, typeId = 0, size: number;
    if ('size' in layout) {
      size = layout.size;
    } else {
      btf = layout.btf;
      typeId = typeof layout.type === 'number' ? layout.type : this.lookup(layout.btf, layout.type, name);
      size = btf.sizeOf(typeId);
    }
    if (!Number.isInteger(size) || size <= 0 || size > 1 << 16) {
      throw new HookError('EHOOK', `tracepoint ${name}: a ctx of ${size} bytes is not 1 to 65536 bytes`, { tracepoint: name, size });
    }
    const event: TracepointEvent = { name, size, btf, typeId, ctx: this.space.map(`tracepoint:${name}`, 'ctx', size, false) };
    this.events.set(name, { event, progs: [] });
    return event;
  }

  private lookup(btf: Btf, type: string, name: string): number {
    const ids = btf.findAll(type, 'struct');
    const id = ids[0] ?? btf.findAll(type)[0];
    if (id === undefined) throw new HookError('EHOOK', `tracepoint ${name}: the BTF has no type named ${type}`, { tracepoint: name, type });
    return id;
  }

  /** Attaches a program to event `name`; returns what detaches it. */
  attach(name: string, run: RunFn): () => void {
    const e = this.get(name);
    const a: Attached = { run };
    e.progs.push(a);
    return () => {
      const k = e.progs.indexOf(a);
      if (k >= 0) e.progs.splice(k, 1);
    };
  }

  /** The defined events. */
  list(): TracepointEvent[] {
    return [...this.events.values()].map((e) => e.event);
  }

  /**
   * Fires event `name`: fills its ctx with `value` (raw bytes, zero-padded
   * to the ctx size, or a value encoded by the event's BTF type) and runs
   * every attached program in attach order. Returns each program's r0.
   */
  fire(name: string, value: Uint8Array | BtfInput, opts: FireOptions = {}): bigint[] {
    const { event, progs } = this.get(name);
    if (progs.length === 0) return [];
    const u8 = this.space.u8;
    const at = event.ctx.start;
    if (value instanceof Uint8Array) {
      if (value.length > event.size) {
        throw new HookError('EHOOK', `tracepoint ${name}: ${value.length} bytes do not fit its ${event.size}-byte ctx`, { tracepoint: name });
      }
      u8.fill(0, at, at + event.size);
      u8.set(value, at);
    } else {
      if (event.btf === null) throw new HookError('EHOOK', `tracepoint ${name} has no BTF type: fire it with bytes`, { tracepoint: name });
      u8.set(encodeValue(event.btf, event.typeId, value), at);
    }
    const host: RunHost = { ...opts.host, cpu: opts.cpu ?? 0 };
    const args = [BigInt(at)];
    return progs.slice().map((p) => p.run(args, host));
  }

  private get(name: string): { event: TracepointEvent; progs: Attached[] } {
    const e = this.events.get(name);
    if (e === undefined) throw new HookError('EHOOK', `no tracepoint named ${name}`, { tracepoint: name });
    return e;
  }
}
