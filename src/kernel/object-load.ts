/**
 * `loadCollection`: an ObjectSpec into the kernel. BTF is fixed up and
 * loaded, maps created (global data written, read-only data frozen),
 * programs relocated and loaded with their func and line info, then
 * prog_array and map-in-map slots filled. If any step fails, everything
 * created so far is closed before the error is thrown.
 */
import { Btf } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import { MapType, ProgType } from '../object/kinds.js';
import type { MapSpec, ObjectSpec, ProgramSpec } from '../object/spec.js';
import { appendBtfStrings, btfLoad, type LoadedBtf } from './btf-load.js';
import { ProgFlag } from './constants.js';
import { KernelError } from './errors.js';
import { kconfigData } from './kconfig.js';
import { KernelMap } from './map.js';
import { sanitizeObjectName } from './map-create.js';
import { type LoadedProgram, progLoad } from './prog.js';
import { coreReloRecords, extStrings, funcInfoRecords, lineInfoRecords, relocate } from './relocate.js';
import { sanitizeBtf } from './sanitize.js';
import { attachBtfId } from './vmlinux.js';

export interface LoadCollectionOptions {
  /**
   * `auto` (the default): load the object's BTF and go on without it when
   * the kernel refuses it (see `btfError`); `require`: throw instead;
   * `none`: load no BTF (no func/line info, maps without BTF).
   */
  btf?: 'auto' | 'require' | 'none';
  /** Verifier log level for every program (0: a log only when a load fails). */
  logLevel?: number;
  logSize?: number;
  /** Load only these programs (by name); by default all but those in `?`-prefixed sections. */
  programs?: readonly string[];
}

/** Maps and programs of one object, loaded. `close()` closes every fd. */
export class KernelCollection {
  readonly maps = new Map<string, KernelMap>();
  readonly programs = new Map<string, LoadedProgram>();
  /** The object's BTF as loaded (its fd is the programs' `prog_btf_fd`), or null. */
  readonly btf: LoadedBtf | null;
  /** Why the object's BTF was not loaded, when the `btf` option is `auto` and the kernel refused it. */
  readonly btfError: KernelError | null;
  /** The fix-ups made to (a copy of) the object's BTF before it was loaded. */
  readonly btfChanges: readonly string[];

  constructor(btf: BtfOutcome = { btf: null, error: null, changes: [] }) {
    this.btf = btf.btf;
    this.btfError = btf.error;
    this.btfChanges = btf.changes;
  }

  get closed(): boolean {
    return this.#closed;
  }
  #closed = false;

  /** Closes every program, map and the BTF; closing twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    let first: unknown = null;
    const all: Array<{ close(): void }> = [...this.programs.values(), ...this.maps.values()];
    if (this.btf) all.push(this.btf);
    for (const o of all) {
      try {
        o.close();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== null) throw first;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The map, or a typed error naming the ones there are. */
  map(name: string): KernelMap {
    const m = this.maps.get(name);
    if (!m) throw new TsbpfError('ENOMAP', `no map "${name}" (there are: ${[...this.maps.keys()].join(', ') || 'none'})`, { map: name });
    return m;
  }

  program(name: string): LoadedProgram {
    const p = this.programs.get(name);
    if (!p) throw new TsbpfError('ENOPROG', `no program "${name}" (there are: ${[...this.programs.keys()].join(', ') || 'none'})`, { program: name });
    return p;
  }
}

export function loadCollection(spec: ObjectSpec, opts: LoadCollectionOptions = {}): KernelCollection {
  const outcome = loadBtf(spec, opts.btf ?? 'auto');
  const coll = new KernelCollection(outcome);
  const strOff = outcome.btf && outcome.strOff ? outcome.strOff : null;
  try {
    for (const m of spec.maps.values()) coll.maps.set(m.name, createMap(m, spec, coll));
    const wanted = opts.programs ? new Set(opts.programs) : null;
    if (wanted) for (const n of wanted) if (!spec.programs.has(n)) throw new TsbpfError('ENOPROG', `the object has no program "${n}"`, { program: n });
    for (const p of spec.programs.values()) {
      // `?sec` programs are not loaded unless asked for by name (libbpf's autoload = false).
      if (wanted ? !wanted.has(p.name) : p.section.startsWith('?')) continue;
      coll.programs.set(p.name, loadProgram(p, spec, coll, strOff, opts));
    }
    for (const m of spec.maps.values()) fillSlots(m, spec, coll);
    return coll;
  } catch (e) {
    try {
      coll.close();
    } catch {
      // the original error matters more
    }
    throw e;
  }
}

interface BtfOutcome {
  btf: LoadedBtf | null;
  error: KernelError | null;
  changes: string[];
  /** Offsets of line_info and CO-RE strings in the loaded BTF. */
  strOff?: (s: string) => number;
}

/** Fixes up and loads the object's BTF (with the strings func/line info and CO-RE need). */
function loadBtf(spec: ObjectSpec, mode: 'auto' | 'require' | 'none'): BtfOutcome {
  if (spec.btf === null || mode === 'none') return { btf: null, error: null, changes: [] };
  const { types, changes } = sanitizeBtf(spec);
  const encoded = new Btf(types, true).encode();
  const { bytes, offsets } = appendBtfStrings(encoded, extStrings(spec));
  try {
    return { btf: btfLoad(bytes), error: null, changes, strOff: (s) => offsets.get(s) ?? 0 };
  } catch (e) {
    if (mode === 'require' || !(e instanceof KernelError)) throw e;
    return { btf: null, error: e, changes };
  }
}

function createMap(m: MapSpec, spec: ObjectSpec, coll: KernelCollection): KernelMap {
  const btfFd = coll.btf?.fd;
  const data = m.section === '.kconfig' ? kconfigData(spec, m) : m.data;
  const map = KernelMap.create(m, btfFd === undefined ? {} : { btfFd });
  try {
    if (data !== null && m.valueSize > 0) {
      const value = new Uint8Array(m.valueSize);
      value.set(data.subarray(0, m.valueSize));
      map.update(new Uint8Array(m.keySize), value);
    }
    if (m.readonly && m.data !== null) map.freeze();
  } catch (e) {
    map.close();
    throw e;
  }
  return map;
}

function loadProgram(p: ProgramSpec, spec: ObjectSpec, coll: KernelCollection, strOff: ((s: string) => number) | null, opts: LoadCollectionOptions): LoadedProgram {
  const sectionMap = new Map<string, string>();
  for (const m of spec.maps.values()) sectionMap.set(m.section, m.name);
  const insns = relocate(p, spec, {
    fd: (name) => {
      const m = coll.maps.get(name);
      if (!m) throw new TsbpfError('ERELOC', `program ${p.name} refers to map "${name}", which the object does not define`, { program: p.name, map: name });
      return m.fd;
    },
    bySection: (section) => sectionMap.get(section) ?? null,
  });
  const type = ProgType[p.type];
  if (type === undefined) throw new TsbpfError('EARG', `program ${p.name} has unknown type ${p.type}`, { program: p.name });
  const withBtf = coll.btf !== null && strOff !== null;
  if (!withBtf && p.coreRelos.length > 0) {
    throw new TsbpfError('ECORE', `program ${p.name} has ${p.coreRelos.length} CO-RE relocations, which need the object's BTF loaded${coll.btfError ? ` (the kernel refused it: ${coll.btfError.message})` : ''}`, { program: p.name });
  }
  const attachId = attachBtfId(type, p.section, p.attachTo);
  return progLoad({
    type,
    insns,
    license: p.license || spec.license || 'GPL',
    kernVersion: p.kernelVersion || spec.kernelVersion,
    name: sanitizeObjectName(p.name),
    ...(p.expectedAttachType !== null ? { expectedAttachType: p.expectedAttachType } : {}),
    ...(progFlags(p) ? { flags: progFlags(p) } : {}),
    ...(attachId !== null ? { attachBtfId: attachId } : {}),
    ...(withBtf ? { btfFd: coll.btf!.fd, funcInfo: funcInfoRecords(p), lineInfo: lineInfoRecords(p, strOff), coreRelos: coreReloRecords(p, strOff) } : {}),
    ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
    ...(opts.logSize !== undefined ? { logSize: opts.logSize } : {}),
  });
}

/** `prog_flags` the section implies: sleepable (`.s`), XDP fragments (`xdp.frags`). */
function progFlags(p: ProgramSpec): number {
  let flags = p.sleepable ? ProgFlag.SLEEPABLE : 0;
  const kind = p.section.replace(/^\?/, '').split('/')[0]!;
  if (p.type === 'XDP' && kind.endsWith('.frags')) flags |= ProgFlag.XDP_HAS_FRAGS;
  return flags;
}

/** prog_array and map-in-map slots from `.values`, and raw initial elements. */
function fillSlots(m: MapSpec, spec: ObjectSpec, coll: KernelCollection): void {
  if (m.init.length === 0) return;
  const map = coll.map(m.name);
  for (const slot of m.init) {
    let value: Uint8Array;
    if (slot.value instanceof Uint8Array) {
      value = slot.value;
    } else {
      let fd: number;
      if ('program' in slot.value) {
        const prog = coll.programs.get(slot.value.program);
        if (!prog) {
          if (m.type === MapType.PROG_ARRAY && spec.programs.has(slot.value.program)) continue; // left out by `programs`
          throw new TsbpfError('ENOPROG', `map ${m.name} refers to program "${slot.value.program}", which is not loaded`, { map: m.name });
        }
        fd = prog.fd;
      } else {
        fd = coll.map(slot.value.map).fd;
      }
      value = new Uint8Array(4);
      new DataView(value.buffer).setUint32(0, fd, true);
    }
    map.update(slot.key, value);
  }
}
