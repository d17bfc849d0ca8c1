/** Decoded BTF values as JSON data and as text (`bpftool map dump` style). */
import type { Btf } from './btf.js';
import { decodeValue, type BtfValue } from './value.js';
import { MAX_DEPTH, fieldsOf } from './value-layout.js';

const SAFE = 2n ** 53n;

/**
 * The JSON form of a decoded value (the contract of `tsbpf run --json`):
 * bigints are JSON numbers when |v| < 2^53 and decimal strings otherwise;
 * NaN and the infinities, which JSON lacks, become the strings "NaN",
 * "Infinity" and "-Infinity".
 */
export function toJson(value: BtfValue): unknown {
  switch (typeof value) {
    case 'bigint': return value < SAFE && value > -SAFE ? Number(value) : value.toString();
    case 'number': return Number.isFinite(value) ? value : String(value);
    case 'string': case 'boolean': return value;
    default:
      if (Array.isArray(value)) return value.map(toJson);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
}

/**
 * The value of type `typeId` at `bytes[offset..]` as text, like `bpftool map
 * dump` prints a BTF-typed value: JSON-like, 4-space indents, strings and
 * enumerators quoted, pointers in hex, 64-bit integers in full.
 */
export function formatValue(btf: Btf, typeId: number, bytes: Uint8Array, offset = 0): string {
  return render(btf, typeId, decodeValue(btf, typeId, bytes, offset), 0, 0);
}

const pad = (n: number): string => ' '.repeat(4 * n);

function render(btf: Btf, id: number, v: BtfValue, level: number, depth: number): string {
  if (depth > MAX_DEPTH) return '...';
  const t = btf.resolved(id);
  if (t.kind === 'var') return render(btf, t.type, v, level, depth + 1);
  if (t.kind === 'ptr' && typeof v === 'bigint') return `0x${v.toString(16)}`;
  switch (typeof v) {
    case 'string': return JSON.stringify(v);
    case 'bigint': return v.toString();
    case 'number': return Number.isFinite(v) ? String(v) : `"${v}"`;
    case 'boolean': return String(v);
    default: break;
  }
  if (Array.isArray(v)) {
    const elem = t.kind === 'array' ? t.type : 0;
    const items = v.map((x) => render(btf, elem, x, level + 1, depth + 1));
    if (items.every((s) => !s.includes('\n')) && items.join(', ').length <= 72) return `[${items.join(', ')}]`;
    return `[\n${items.map((s) => pad(level + 1) + s).join(',\n')}\n${pad(level)}]`;
  }
  const types = new Map<string, number>();
  if (t.kind === 'struct' || t.kind === 'union') for (const f of fieldsOf(btf, t)) types.set(f.name, f.typeId);
  else if (t.kind === 'datasec') for (const s of t.vars) { const vt = btf.get(s.type); types.set(vt.name, s.type); }
  const entries = Object.entries(v);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([k, x]) => `${pad(level + 1)}${JSON.stringify(k)}: ${render(btf, types.get(k) ?? 0, x, level + 1, depth + 1)}`);
  return `{\n${lines.join(',\n')}\n${pad(level)}}`;
}
