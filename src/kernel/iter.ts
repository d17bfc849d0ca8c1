/**
 * BPF iterators: `attachIter` makes the iter link (BPF_LINK_CREATE, attach
 * type TRACE_ITER); every `openIter` on it starts a new walk
 * (BPF_ITER_CREATE), whose output the program writes with
 * bpf_seq_printf/bpf_seq_write and the reader gets with read(2).
 */
import { read as readAsync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { TsbpfError } from '../errors.js';
import { AttachType } from '../object/kinds.js';
import { BpfCommand, errnoNumber } from './constants.js';
import { KernelError } from './errors.js';
import { Link } from './link.js';
import { OwnedFd } from './owned-fd.js';
import { type ProgramRef, progFdOf } from './perf-event.js';
import { addressOf, bpfRaw } from './syscall.js';

export interface IterOptions {
  /** For map iterators (`iter/bpf_map_elem`...): the map to walk. */
  mapFd?: number;
}

/** Attaches an iterator program (`iter/task`, `iter/bpf_map`...). Read it with `openIter`. */
export function attachIter(prog: ProgramRef, opts: IterOptions = {}): Link {
  const info = new Uint8Array(16); // union bpf_iter_link_info
  const attr = new Uint8Array(48);
  const v = new DataView(attr.buffer);
  v.setUint32(0, progFdOf(prog), true);
  v.setUint32(8, AttachType.TRACE_ITER, true);
  if (opts.mapFd !== undefined) {
    new DataView(info.buffer).setUint32(0, opts.mapFd, true);
    v.setBigUint64(16, addressOf(info), true);
    v.setUint32(24, 4, true);
  }
  const fd = bpfRaw(BpfCommand.BPF_LINK_CREATE, attr);
  if (fd < 0) throw new KernelError('BPF_LINK_CREATE', -fd, '', 'iterator');
  return new Link(fd, 'iter');
}

const CHUNK = 64 * 1024;

function readError(e: unknown): TsbpfError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const errno = errnoNumber(code);
  return errno !== undefined ? new KernelError('read', errno, '', 'BPF iterator') : new TsbpfError('EITER', `reading the BPF iterator failed: ${(e as Error).message}`, {});
}

/**
 * One walk of an iterator: its output, read with read(2) until end of
 * file. It can be read synchronously (`readAll`, `text`) or as an async
 * iterable of chunks / a Node stream, whose reads run off the event loop.
 * The fd is closed at end of file, on `close()`, or when a `for await`
 * loop over it stops early.
 */
export class IterReader extends OwnedFd implements AsyncIterable<Uint8Array> {
  protected closedError(): TsbpfError {
    return new TsbpfError('ECLOSED', 'the iterator reader has been closed', {});
  }

  /** The next chunk (at most `max` bytes), or null at end of file (which closes the fd). */
  readChunk(max = CHUNK): Uint8Array | null {
    const buf = new Uint8Array(max);
    let n: number;
    try {
      n = readSync(this.fd, buf, 0, max, null);
    } catch (e) {
      throw readError(e);
    }
    if (n === 0) {
      this.close();
      return null;
    }
    return buf.subarray(0, n);
  }

  /** Everything that is left, synchronously. */
  readAll(): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let c = this.readChunk(); c !== null; c = this.readChunk()) {
      parts.push(c);
      total += c.byteLength;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }

  /** Everything that is left, as UTF-8 text. */
  text(): string {
    return new TextDecoder().decode(this.readAll());
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (this.closed) return;
        const buf = new Uint8Array(CHUNK);
        const n = await new Promise<number>((resolve, reject) => {
          readAsync(this.fd, buf, 0, CHUNK, null, (err, bytes) => (err ? reject(readError(err)) : resolve(bytes)));
        });
        if (n === 0) return;
        yield buf.subarray(0, n);
      }
    } finally {
      this.close();
    }
  }

  /** The output as a Node readable byte stream. */
  stream(): Readable {
    return Readable.from(this, { objectMode: false });
  }
}

/** Starts a walk of the iterator behind `link` (BPF_ITER_CREATE). */
export function openIter(link: Link | number): IterReader {
  const attr = new Uint8Array(8);
  new DataView(attr.buffer).setUint32(0, typeof link === 'number' ? link : link.fd, true);
  const fd = bpfRaw(BpfCommand.BPF_ITER_CREATE, attr);
  if (fd < 0) throw new KernelError('BPF_ITER_CREATE', -fd, '', 'iterator link');
  return new IterReader(fd);
}
