/**
 * Where a function lives in an ELF binary's file, for uprobes: the kernel
 * takes a file offset (`probe_offset`), and the symbol tables give virtual
 * addresses. The function is looked up in `.symtab` and `.dynsym`, and its
 * address turned into an offset through the PT_LOAD segment that holds it.
 * Only the headers and the symbol and string tables are read, so large
 * binaries (Node's own, ~100 MB) cost little.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { delimiter } from 'node:path';
import { AttachError } from './attach-error.js';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STB_WEAK = 2;

export interface UprobeTarget {
  /** The binary's absolute, resolved path (what the kernel is given). */
  readonly path: string;
  /** The symbol that was found (without a version suffix), or '' for a raw offset. */
  readonly symbol: string;
  /** The symbol's virtual address (`st_value`) plus the requested offset. */
  readonly address: bigint;
  /** Offset in the file: what `config2` / `probe_offset` takes. */
  readonly offset: bigint;
  /** `st_size` of the symbol. */
  readonly size: bigint;
}

interface Section { type: number; offset: number; size: number; link: number; entsize: number; addr: bigint }
interface Segment { type: number; offset: bigint; vaddr: bigint; filesz: bigint }
interface Candidate { name: string; value: bigint; size: bigint; bind: number; shndx: number }

class ElfFileReader {
  readonly fd: number;
  readonly path: string;
  readonly length: number;
  constructor(path: string) {
    this.path = path;
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new AttachError('EUPROBEBINARY', `cannot open ${path}: ${(e as Error).message}`, { binary: path });
    }
    try {
      this.length = fstatSync(this.fd).size;
    } catch (e) {
      closeSync(this.fd);
      throw new AttachError('EUPROBEBINARY', `cannot stat ${path}: ${(e as Error).message}`, { binary: path });
    }
  }
  read(at: number | bigint, len: number | bigint, what: string): DataView {
    const start = Number(at);
    const n = Number(len);
    if (start < 0 || n < 0 || start + n > this.length) {
      throw new AttachError('EUPROBEBINARY', `${this.path}: ${what} [${start}, +${n}) is outside the ${this.length}-byte file`, { binary: this.path, offset: start });
    }
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, buf, got, n - got, start + got);
      if (r <= 0) break;
      got += r;
    }
    if (got !== n) throw new AttachError('EUPROBEBINARY', `${this.path}: short read of ${what}`, { binary: this.path, offset: start });
    return new DataView(buf.buffer);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Finds a binary: a path with a `/` as given, otherwise through $PATH and then the usual library directories. */
export function findBinary(name: string): string {
  const candidates: string[] = [];
  if (name.includes('/')) candidates.push(name);
  else {
    for (const dir of (process.env['PATH'] ?? '').split(delimiter)) if (dir) candidates.push(`${dir}/${name}`);
    const multiarch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
    for (const dir of [`/lib/${multiarch}`, `/usr/lib/${multiarch}`, '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib']) candidates.push(`${dir}/${name}`);
  }
  for (const c of candidates) {
    try {
      if (existsSync(c) && statSync(c).isFile()) return realpathSync(c);
    } catch {
      // try the next one
    }
  }
  throw new AttachError('EUPROBEBINARY', `binary "${name}" not found${name.includes('/') ? '' : ' in $PATH or the library directories'}`, { binary: name });
}

/**
 * Resolves `symbol` (optionally `symbol+offset`, e.g. `main+0x10`) in the
 * ELF64 little-endian binary at `binaryPath` to a file offset. A number or
 * bigint `symbol` is taken as a file offset already.
 */
export function resolveUprobe(binaryPath: string, symbol: string | number | bigint): UprobeTarget {
  const path = findBinary(binaryPath);
  if (typeof symbol !== 'string') {
    const offset = BigInt(symbol);
    if (offset < 0n) throw new AttachError('EATTACHARG', `uprobe offset ${offset} is negative`, { binary: path });
    return { path, symbol: '', address: offset, offset, size: 0n };
  }
  const m = /^(.+?)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(symbol);
  if (!m || symbol === '') throw new AttachError('EATTACHARG', `"${symbol}" is not a symbol or symbol+offset`, { binary: path, symbol });
  const name = m[1]!;
  const extra = m[2] ? BigInt(m[2]) : 0n;
  const f = new ElfFileReader(path);
  try {
    const { sections, segments } = readTables(f);
    const found = findSymbol(f, sections, name);
    const address = found.value + extra;
    return { path, symbol: name, address, offset: fileOffset(f, sections, segments, found, address), size: found.size };
  } finally {
    f.close();
  }
}

function readTables(f: ElfFileReader): { sections: Section[]; segments: Segment[] } {
  const h = f.read(0, 64, 'the ELF header');
  if (h.getUint32(0, false) !== 0x7f454c46) throw new AttachError('EUPROBEBINARY', `${f.path} is not an ELF file`, { binary: f.path });
  if (h.getUint8(4) !== 2 || h.getUint8(5) !== 1) {
    throw new AttachError('EUPROBEBINARY', `${f.path} is not a little-endian ELF64 file`, { binary: f.path });
  }
  const phoff = h.getBigUint64(32, true);
  const shoff = h.getBigUint64(40, true);
  const phentsize = h.getUint16(54, true);
  const phnum = h.getUint16(56, true);
  const shentsize = h.getUint16(58, true);
  const shnum = h.getUint16(60, true);
  const segments: Segment[] = [];
  if (phnum > 0) {
    if (phentsize < 56) throw new AttachError('EUPROBEBINARY', `${f.path}: program header size ${phentsize} is too small`, { binary: f.path });
    const ph = f.read(phoff, phentsize * phnum, 'the program headers');
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      segments.push({ type: ph.getUint32(at, true), offset: ph.getBigUint64(at + 8, true), vaddr: ph.getBigUint64(at + 16, true), filesz: ph.getBigUint64(at + 32, true) });
    }
  }
  const sections: Section[] = [];
  if (shnum > 0) {
    if (shentsize < 64) throw new AttachError('EUPROBEBINARY', `${f.path}: section header size ${shentsize} is too small`, { binary: f.path });
    const sh = f.read(shoff, shentsize * shnum, 'the section headers');
    for (let i = 0; i < shnum; i++) {
      const at = i * shentsize;
      sections.push({
        type: sh.getUint32(at + 4, true),
        addr: sh.getBigUint64(at + 16, true),
        offset: Number(sh.getBigUint64(at + 24, true)),
        size: Number(sh.getBigUint64(at + 32, true)),
        link: sh.getUint32(at + 40, true),
        entsize: Number(sh.getBigUint64(at + 56, true)),
      });
    }
  }
  return { sections, segments };
}

/** Does the NUL-terminated string at `at` equal `want`, or `want@VERSION`? */
function nameMatches(str: Uint8Array, at: number, want: Uint8Array): boolean {
  if (at + want.length > str.length) return false;
  for (let k = 0; k < want.length; k++) if (str[at + k] !== want[k]) return false;
  const next = str[at + want.length];
  return next === 0 || next === 0x40 /* @ */ || next === undefined;
}

function findSymbol(f: ElfFileReader, sections: readonly Section[], name: string): Candidate {
  const want = new TextEncoder().encode(name);
  const found: Candidate[] = [];
  let tables = 0;
  for (const s of sections) {
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
    tables++;
    const strSec = sections[s.link];
    if (!strSec || s.entsize !== 24) continue;
    const syms = f.read(s.offset, s.size - (s.size % 24), 'a symbol table');
    const strs = new Uint8Array(f.read(strSec.offset, strSec.size, 'a string table').buffer);
    for (let at = 0; at + 24 <= syms.byteLength; at += 24) {
      const info = syms.getUint8(at + 4);
      const type = info & 0xf;
      const shndx = syms.getUint16(at + 6, true);
      if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || shndx === 0) continue;
      if (!nameMatches(strs, syms.getUint32(at, true), want)) continue;
      found.push({ name, value: syms.getBigUint64(at + 8, true), size: syms.getBigUint64(at + 16, true), bind: info >> 4, shndx });
    }
  }
  if (found.length === 0) {
    const why = tables === 0 ? 'it has no symbol table (stripped?)' : 'no function of that name is defined in .symtab or .dynsym';
    throw new AttachError('ENOSYMBOL', `${f.path} has no function "${name}": ${why}`, { binary: f.path, symbol: name });
  }
  // Prefer global over weak over local definitions; copies at one address are one function.
  const rank = (b: number): number => (b === STB_GLOBAL ? 0 : b === STB_WEAK ? 1 : b === STB_LOCAL ? 2 : 3);
  const best = Math.min(...found.map((c) => rank(c.bind)));
  const top = found.filter((c) => rank(c.bind) === best);
  const addrs = [...new Set(top.map((c) => c.value))];
  if (addrs.length > 1) {
    throw new AttachError('ENOSYMBOL', `${f.path} defines "${name}" ${addrs.length} times (at ${addrs.map((a) => `0x${a.toString(16)}`).join(', ')}); give an offset instead`, {
      binary: f.path, symbol: name,
    });
  }
  return top[0]!;
}

function fileOffset(f: ElfFileReader, sections: readonly Section[], segments: readonly Segment[], sym: Candidate, address: bigint): bigint {
  for (const p of segments) {
    if (p.type === PT_LOAD && address >= p.vaddr && address < p.vaddr + p.filesz) return address - p.vaddr + p.offset;
  }
  // No program headers (an unusual file): go through the symbol's section.
  const s = sections[sym.shndx];
  if (segments.length === 0 && s && address >= s.addr && address < s.addr + BigInt(s.size)) return address - s.addr + BigInt(s.offset);
  throw new AttachError('EUPROBEBINARY', `${f.path}: "${sym.name}" at 0x${address.toString(16)} is in no loadable segment`, { binary: f.path, symbol: sym.name });
}
