/**
 * The fix-ups an object's BTF needs before the kernel accepts it, done on a
 * copy of its types (type ids never change, so func_info, map key/value ids
 * and variables keep pointing at the right types):
 *
 * - DATASEC sizes and variable offsets: clang leaves them 0 in the object;
 *   global data takes them from its MapSpec; variables of other sections
 *   (`.maps`, `license`) keep their offsets when they do not overlap, else
 *   are laid out in order.
 * - `extern` VARs (`__kconfig`, `__ksym`) and FUNCs (kfuncs) become global
 *   ones: the kernel refuses extern linkage.
 * - `.ksyms` becomes a DATASEC of 4-byte int VARs: a DATASEC may hold only
 *   sized VARs, and kfuncs (FUNCs) and typeless `const void` ksyms are not.
 *   Unnamed parameters of those kfuncs are named (global functions need names).
 */
import { Btf, type BtfDatasec, type BtfType, type BtfVarSecinfo } from '../btf/index.js';
import type { MapSpec, ObjectSpec } from '../object/spec.js';

/** What was changed, for logs and tests. */
export interface SanitizeReport {
  types: BtfType[];
  changes: string[];
}

function sizeOfSafe(btf: Btf, id: number): number {
  try {
    return btf.sizeOf(id);
  } catch {
    return 0;
  }
}

function overlaps(vars: readonly BtfVarSecinfo[]): boolean {
  const sorted = [...vars].sort((a, b) => a.offset - b.offset);
  for (let k = 1; k < sorted.length; k++) if (sorted[k]!.offset < sorted[k - 1]!.offset + sorted[k - 1]!.size) return true;
  return false;
}

const alignFor = (size: number): number => (size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1);

/** A fixed-up copy of the object's BTF types. */
export function sanitizeBtf(spec: ObjectSpec): SanitizeReport {
  const src = spec.btf;
  if (src === null) return { types: [], changes: [] };
  const types = structuredClone(src.types) as BtfType[];
  const btf = new Btf(types, src.littleEndian);
  const changes: string[] = [];
  const bySection = new Map<string, MapSpec>();
  for (const m of spec.maps.values()) if (m.data !== null || m.variables.length > 0) bySection.set(m.section, m);

  let intId = 0;
  const intType = (): number => {
    if (intId) return intId;
    intId = types.length;
    types.push({ kind: 'int', id: intId, name: 'int', size: 4, signed: true, char: false, bool: false, offset: 0, bits: 32 });
    return intId;
  };

  for (const t of types.slice()) {
    if ((t.kind === 'var' || t.kind === 'func') && t.linkage === 'extern') {
      t.linkage = 'global';
      changes.push(`${t.kind} ${t.name}: extern → global`);
      if (t.kind === 'func') nameParams(types, t.type, changes);
    }
    if (t.kind !== 'datasec') continue;
    if (t.name === '.ksyms') fixKsyms(t, types, intType, changes);
    else fixDatasec(t, btf, types, bySection.get(t.name) ?? null, changes);
  }
  return { types, changes };
}

/** The kernel wants every parameter of a global function named. */
function nameParams(types: BtfType[], protoId: number, changes: string[]): void {
  const proto = types[protoId];
  if (proto?.kind !== 'func_proto') return;
  proto.params.forEach((q, k) => {
    if (q.type !== 0 && q.name === '') {
      q.name = `arg${k}`;
      changes.push(`func_proto ${protoId}: parameter ${k} named arg${k}`);
    }
  });
}

/**
 * `.ksyms` holds kernel variables (some typeless) and kfuncs; its layout
 * means nothing to the kernel, so every entry becomes a 4-byte int VAR.
 */
function fixKsyms(t: BtfDatasec, types: BtfType[], intType: () => number, changes: string[]): void {
  t.vars.forEach((v, k) => {
    const target = types[v.type];
    if (target?.kind === 'func') {
      const int = intType();
      const id = types.length;
      types.push({ kind: 'var', id, name: target.name, type: int, linkage: 'global' });
      v.type = id;
      changes.push(`.ksyms: func ${target.name} → int var`);
    } else if (target?.kind === 'var') {
      target.type = intType();
      target.linkage = 'global';
    }
    v.offset = 4 * k;
    v.size = 4;
  });
  t.size = 4 * t.vars.length;
}

function fixDatasec(t: BtfDatasec, btf: Btf, types: BtfType[], map: MapSpec | null, changes: string[]): void {
  const known: BtfVarSecinfo[] = [];
  const unknown: BtfVarSecinfo[] = [];
  for (const v of t.vars) {
    const target = types[v.type];
    if (target?.kind !== 'var') continue;
    const size = v.size || sizeOfSafe(btf, target.type);
    if (size !== v.size) v.size = size;
    const variable = map?.variables.find((g) => g.name === target.name);
    if (variable) {
      v.offset = variable.offset;
      if (variable.size) v.size = variable.size;
      known.push(v);
    } else {
      unknown.push(v);
    }
  }
  // Offsets the object does not give: kept when they fit with the rest, else laid out after the known ones.
  if (unknown.length > 0 && overlaps([...known, ...unknown])) {
    let end = known.reduce((e, v) => Math.max(e, v.offset + v.size), 0);
    for (const v of unknown) {
      const a = alignFor(v.size);
      v.offset = Math.ceil(end / a) * a;
      end = v.offset + v.size;
    }
    changes.push(`datasec ${t.name}: ${unknown.length} variables laid out in order`);
  }
  t.vars.sort((a, b) => a.offset - b.offset);
  const last = t.vars.reduce((e, v) => Math.max(e, v.offset + v.size), 0);
  const size = map ? map.valueSize : Math.max(t.size, last);
  if (size !== t.size) {
    changes.push(`datasec ${t.name}: size ${t.size} → ${size}`);
    t.size = size;
  }
}
