/** Small questions the object loader asks of BTF, answered without throwing raw errors. */
import { BtfError, type Btf, type BtfType } from '../btf/index.js';
import { ObjectError } from './errors.js';

const MAX_DEPTH = 64;

/** `btf.get`, as an ObjectError naming the section and offset when the id is bad. */
export function typeAt(btf: Btf, id: number, section: string, offset: number, what: string): BtfType {
  try {
    return btf.get(id);
  } catch (e) {
    if (e instanceof BtfError) throw new ObjectError(section, offset, `${what}: BTF type ${id} does not exist`);
    throw e;
  }
}

/** The type behind typedefs and qualifiers (an ObjectError for loops or bad ids). */
export function resolvedAt(btf: Btf, id: number, section: string, offset: number, what: string): BtfType {
  try {
    return btf.resolved(id);
  } catch (e) {
    if (e instanceof BtfError) throw new ObjectError(section, offset, `${what}: ${e.message}`);
    throw e;
  }
}

/** `sizeof`, or an ObjectError when the type has none. */
export function sizeAt(btf: Btf, id: number, section: string, offset: number, what: string): number {
  try {
    return btf.sizeOf(id);
  } catch (e) {
    if (e instanceof BtfError) throw new ObjectError(section, offset, `${what}: ${e.message}`);
    throw e;
  }
}

/** The C alignment of a type (as libbpf computes it for `.kconfig` layout). */
export function alignOf(btf: Btf, id: number, depth = 0): number {
  if (depth > MAX_DEPTH) return 1;
  const t = btf.types[id];
  if (t === undefined) return 1;
  switch (t.kind) {
    case 'int': case 'enum': case 'enum64': case 'float':
      return Math.max(1, Math.min(t.size, 8));
    case 'ptr':
      return 8;
    case 'array':
      return alignOf(btf, t.type, depth + 1);
    case 'struct': case 'union': {
      let a = 1;
      for (const m of t.members) a = Math.max(a, alignOf(btf, m.type, depth + 1));
      return a;
    }
    case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag': case 'var':
      return alignOf(btf, t.type, depth + 1);
    default:
      return 1;
  }
}
