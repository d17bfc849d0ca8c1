/**
 * The running kernel's own BTF (`/sys/kernel/btf/vmlinux`), parsed once on
 * first use: attach targets of BTF-typed programs and `__ksym` externs are
 * its type ids.
 */
import { readFileSync } from 'node:fs';
import { Btf, type BtfKindName } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import { ProgType } from '../object/kinds.js';

const PATH = '/sys/kernel/btf/vmlinux';
let cached: Btf | undefined;

export function vmlinuxBtf(): Btf {
  if (cached) return cached;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(PATH);
  } catch (e) {
    throw new TsbpfError('ENOVMLINUX', `the kernel's BTF is not readable at ${PATH}: ${(e as Error).message}`, { path: PATH });
  }
  cached = Btf.parse(bytes);
  return cached;
}

/** The id of a named type of this kind in vmlinux BTF, or 0. */
export function vmlinuxTypeId(name: string, kind: BtfKindName): number {
  return vmlinuxBtf().find(name, kind)?.id ?? 0;
}

/**
 * The vmlinux BTF id a program of this type attaches to, by libbpf's
 * section conventions (`tp_btf/NAME` → `btf_trace_NAME`, `iter/NAME` →
 * `bpf_iter_NAME`, `lsm/NAME` → `bpf_lsm_NAME`, `fentry/NAME` → `NAME`), or
 * null when the program type does not take one.
 */
export function attachBtfId(type: number, section: string, attachTo: string): number | null {
  if (type !== ProgType.TRACING && type !== ProgType.LSM) return null;
  const target = attachTo || section.slice(section.indexOf('/') + 1);
  const kind = section.split('/')[0]!.replace(/\.s$/, '');
  const [name, btfKind]: [string, BtfKindName] =
    kind === 'tp_btf' ? [`btf_trace_${target}`, 'typedef']
      : kind === 'iter' ? [`bpf_iter_${target}`, 'func']
        : type === ProgType.LSM ? [`bpf_lsm_${target}`, 'func']
          : [target, 'func'];
  const id = vmlinuxTypeId(name, btfKind);
  if (id === 0) {
    throw new TsbpfError('EATTACHTARGET', `the kernel has no ${btfKind} ${name} for program section "${section}"`, { section, target: name });
  }
  return id;
}

let kallsyms: Map<string, bigint> | undefined;

/** A kernel symbol's address from `/proc/kallsyms`, or null (absent, or hidden as 0). */
export function kallsymsAddress(name: string): bigint | null {
  if (!kallsyms) {
    kallsyms = new Map();
    let text = '';
    try {
      text = readFileSync('/proc/kallsyms', 'utf8');
    } catch {
      text = '';
    }
    for (const line of text.split('\n')) {
      const [addr, , sym] = line.split(/\s+/);
      if (addr && sym && !kallsyms.has(sym)) kallsyms.set(sym, BigInt(`0x${addr}`));
    }
  }
  const a = kallsyms.get(name);
  return a === undefined || a === 0n ? null : a;
}
