// Hand-built capture files for the pcap reader tests, in either byte order.

export class Bytes {
  private parts: number[] = [];
  constructor(readonly le: boolean) {}
  u8(...v: number[]): this {
    this.parts.push(...v.map((x) => x & 0xff));
    return this;
  }
  u16(v: number): this {
    return this.le ? this.u8(v, v >>> 8) : this.u8(v >>> 8, v);
  }
  u32(v: number): this {
    return this.le ? this.u8(v, v >>> 8, v >>> 16, v >>> 24) : this.u8(v >>> 24, v >>> 16, v >>> 8, v);
  }
  u64(v: bigint): this {
    const hi = Number((v >> 32n) & 0xffffffffn), lo = Number(v & 0xffffffffn);
    return this.le ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  bytes(b: Uint8Array): this {
    this.parts.push(...b);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

/** A classic pcap file in the given byte order and unit. */
export function pcapFile(
  le: boolean,
  nanos: boolean,
  packets: Array<{ data: Uint8Array; origLen?: number; sec: number; frac: number }>,
  linkType = 1,
): Uint8Array {
  const b = new Bytes(le).u32(nanos ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(linkType);
  for (const p of packets) {
    b.u32(p.sec).u32(p.frac).u32(p.data.length).u32(p.origLen ?? p.data.length).bytes(p.data);
  }
  return b.done();
}

/** pcapng blocks in one byte order. */
export class Pcapng {
  constructor(readonly le: boolean) {}

  block(type: number, body: (b: Bytes) => void): Uint8Array {
    const inner = new Bytes(this.le);
    body(inner);
    inner.pad4();
    const len = inner.length + 12;
    return new Bytes(this.le).u32(type).u32(len).bytes(inner.done()).u32(len).done();
  }

  option(b: Bytes, code: number, value: Uint8Array): void {
    b.u16(code).u16(value.length).bytes(value).pad4();
  }

  shb(): Uint8Array {
    return this.block(0x0a0d0d0a, (b) => b.u32(0x1a2b3c4d).u16(1).u16(0).u64(0xffffffffffffffffn));
  }

  idb(linkType: number, opts: { snapLen?: number; tsresol?: number; tsoffset?: bigint; name?: string } = {}): Uint8Array {
    return this.block(1, (b) => {
      b.u16(linkType).u16(0).u32(opts.snapLen ?? 0);
      if (opts.name !== undefined) this.option(b, 2, new TextEncoder().encode(opts.name));
      if (opts.tsresol !== undefined) this.option(b, 9, Uint8Array.of(opts.tsresol));
      if (opts.tsoffset !== undefined) this.option(b, 14, new Bytes(this.le).u64(opts.tsoffset).done());
      if (opts.name !== undefined || opts.tsresol !== undefined || opts.tsoffset !== undefined) b.u16(0).u16(0);
    });
  }

  epb(iface: number, ts: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
    return this.block(6, (b) => {
      b.u32(iface).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn)).u32(data.length).u32(origLen).bytes(data).pad4();
      this.option(b, 1, Uint8Array.of(0, 0, 0, 1)); // epb_flags: inbound
      b.u16(0).u16(0);
    });
  }

  spb(data: Uint8Array, origLen = data.length): Uint8Array {
    return this.block(3, (b) => b.u32(origLen).bytes(data));
  }

  /** An obsolete packet block: the reader skips it. */
  opb(iface: number, ts: bigint, data: Uint8Array): Uint8Array {
    return this.block(2, (b) => b.u16(iface).u16(0).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn))
      .u32(data.length).u32(data.length).bytes(data));
  }
}
