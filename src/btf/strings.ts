import { BtfError } from './errors.js';

const decoder = new TextDecoder('utf-8', { fatal: false });

/** A BTF string table: NUL-terminated strings addressed by byte offset. */
export class StringTable {
  private readonly cache = new Map<number, string>();
  constructor(
    readonly bytes: Uint8Array,
    private readonly section: '.BTF' | '.BTF.ext',
    /** Where the table starts inside the section, for error offsets. */
    private readonly base: number,
  ) {}

  get(off: number, where: number): string {
    const hit = this.cache.get(off);
    if (hit !== undefined) return hit;
    if (off < 0 || off >= this.bytes.length) {
      if (off === 0) return '';
      throw new BtfError(this.section, where, `string offset ${off} is outside the ${this.bytes.length}-byte string table`);
    }
    const end = this.bytes.indexOf(0, off);
    if (end < 0) throw new BtfError(this.section, this.base + off, 'string is not NUL-terminated');
    const s = decoder.decode(this.bytes.subarray(off, end));
    this.cache.set(off, s);
    return s;
  }
}

/** Builds a string table, sharing repeated strings. Offset 0 is the empty string. */
export class StringBuilder {
  private readonly offsets = new Map<string, number>([['', 0]]);
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;
  private readonly encoder = new TextEncoder();

  add(s: string): number {
    const hit = this.offsets.get(s);
    if (hit !== undefined) return hit;
    const off = this.size;
    const b = this.encoder.encode(s);
    const z = new Uint8Array(b.length + 1);
    z.set(b);
    this.parts.push(z);
    this.size += z.length;
    this.offsets.set(s, off);
    return off;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}
