/**
 * Values of `__kconfig` externs, written into the `.kconfig` map before it
 * is frozen: `LINUX_KERNEL_VERSION` and friends from the running kernel,
 * `CONFIG_*` from its build configuration (`/proc/config.gz` or
 * `/boot/config-<release>`). Encodings follow the extern's C type, as
 * libbpf does: bool, `enum libbpf_tristate`, char, char arrays and integers.
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import type { Btf } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import type { MapSpec, ObjectSpec } from '../object/spec.js';

export class KconfigError extends TsbpfError {
  constructor(extern: string, message: string) {
    super('EKCONFIG', `__kconfig ${extern}: ${message}`, { extern });
  }
}

let config: Map<string, string> | undefined;

/** `CONFIG_*` → raw value (`y`, `m`, `250`, `"text"`), empty when the configuration is not readable. */
export function kernelConfig(): Map<string, string> {
  if (config) return config;
  let text = '';
  try {
    text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    try {
      text = readFileSync(`/boot/config-${release()}`, 'utf8');
    } catch {
      text = '';
    }
  }
  config = parseKernelConfig(text);
  return config;
}

export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** `KERNEL_VERSION(a, b, c)` of a release string such as `6.18.44-foo` (c capped at 255). */
export function kernelVersionCode(rel: string = release()): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(255, Number(m[3] ?? 0));
}

function value(name: string): string | undefined {
  switch (name) {
    case 'LINUX_KERNEL_VERSION': return String(kernelVersionCode());
    case 'LINUX_HAS_BPF_COOKIE': return 'y';
    case 'LINUX_HAS_SYSCALL_WRAPPER': return process.arch === 'x64' || process.arch === 'arm64' ? 'y' : 'n';
    default: return kernelConfig().get(name);
  }
}

/** Encodes one value for the extern's type into `out` at `offset`. */
function encode(btf: Btf, name: string, typeId: number, raw: string, out: DataView, offset: number, size: number): void {
  const t = btf.resolved(typeId);
  const tri = raw === 'y' ? 1 : raw === 'm' ? 2 : raw === 'n' ? 0 : -1;
  if (t.kind === 'int' && t.bool) {
    if (tri === 2 || tri < 0) throw new KconfigError(name, `value ${raw} does not fit a bool`);
    out.setUint8(offset, tri);
    return;
  }
  if (t.kind === 'enum') {
    if (tri < 0) throw new KconfigError(name, `value ${raw} is not y, m or n`);
    out.setUint32(offset, tri, true);
    return;
  }
  if (t.kind === 'int' && t.size === 1 && t.char && tri >= 0) {
    out.setUint8(offset, raw.charCodeAt(0));
    return;
  }
  if (t.kind === 'array') {
    const elem = btf.resolved(t.type);
    if (elem.kind !== 'int' || elem.size !== 1) throw new KconfigError(name, 'only char arrays can hold strings');
    if (!/^".*"$/.test(raw)) throw new KconfigError(name, `value ${raw} is not a string`);
    const bytes = new TextEncoder().encode(raw.slice(1, -1)).subarray(0, size - 1);
    new Uint8Array(out.buffer, out.byteOffset + offset, size).set(bytes);
    return;
  }
  if (t.kind === 'int' || t.kind === 'enum64') {
    let v: bigint;
    try {
      v = BigInt(raw);
    } catch {
      throw new KconfigError(name, `value ${raw} is not a number`);
    }
    if (size === 8) out.setBigUint64(offset, BigInt.asUintN(64, v), true);
    else if (size === 4) out.setUint32(offset, Number(BigInt.asUintN(32, v)), true);
    else if (size === 2) out.setUint16(offset, Number(BigInt.asUintN(16, v)), true);
    else if (size === 1) out.setUint8(offset, Number(BigInt.asUintN(8, v)));
    else throw new KconfigError(name, `an integer of ${size} bytes is not supported`);
    return;
  }
  throw new KconfigError(name, `a ${t.kind} cannot hold a kconfig value`);
}

/**
 * The `.kconfig` map's value with every extern filled in. A missing value
 * is 0 for `__weak` externs and an error otherwise.
 */
export function kconfigData(spec: ObjectSpec, map: MapSpec): Uint8Array {
  const out = new Uint8Array(map.valueSize);
  if (map.data) out.set(map.data.subarray(0, map.valueSize));
  const btf = spec.btf;
  if (btf === null) return out;
  const view = new DataView(out.buffer);
  for (const ext of spec.externs) {
    if (ext.kind !== 'kconfig') continue;
    const raw = value(ext.name);
    if (raw === undefined) {
      if (!ext.weak) throw new KconfigError(ext.name, 'the running kernel has no such value (declare it __weak to accept 0)');
      continue;
    }
    const v = btf.types[ext.typeId];
    const typeId = v?.kind === 'var' ? v.type : ext.typeId;
    if (ext.offset + ext.size > out.length) throw new KconfigError(ext.name, `offset ${ext.offset} is outside the ${out.length}-byte .kconfig map`);
    encode(btf, ext.name, typeId, raw, view, ext.offset, ext.size);
  }
  return out;
}
