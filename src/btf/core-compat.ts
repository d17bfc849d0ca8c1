/**
 * The three type relations CO-RE relocation uses (libbpf's relo_core rules):
 * field compatibility (for field accesses), type compatibility (TYPE_EXISTS,
 * TYPE_SIZE, TYPE_ID_TARGET) and the stricter type match (TYPE_MATCHES).
 * Modifiers and typedefs are looked through everywhere; names are compared
 * without their `___flavor` suffix.
 */
import type { Btf } from './btf.js';
import type { BtfComposite, BtfEnum, BtfType } from './types.js';

/** How deep a chain of pointers/arrays or nested types may go before it counts as a loop. */
const MAX_CHAIN = 32;

/**
 * A name without its flavor: `task_struct___v1` is `task_struct`. The flavor
 * is the part after the last `___` that has a non-underscore on each side.
 */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_') {
      return name.slice(0, i + 1);
    }
  }
  return name;
}

/** Thrown for a chain too deep to decide; the relocation code turns it into a `CoreError`. */
export class TooDeep extends Error {}

export const isComposite = (t: BtfType): t is BtfComposite => t.kind === 'struct' || t.kind === 'union';
export const isEnum = (t: BtfType): t is BtfEnum => t.kind === 'enum' || t.kind === 'enum64';

/** Same kind, where enum and enum64 count as one. */
export const kindsCompatible = (a: BtfType, b: BtfType): boolean => a.kind === b.kind || (isEnum(a) && isEnum(b));

/** Whether a local field's type may be relocated to a target field's type. */
export function fieldsCompatible(lb: Btf, localId: number, tb: Btf, targetId: number): boolean {
  let lid = localId;
  let tid = targetId;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const lt = lb.resolved(lid);
    const tt = tb.resolved(tid);
    if (isComposite(lt) && isComposite(tt)) return true;
    if (!kindsCompatible(lt, tt)) return false;
    switch (lt.kind) {
      case 'ptr': case 'float':
        return true;
      case 'fwd': case 'enum': case 'enum64':
        // Either anonymous, or the same name without flavors.
        return lt.name === '' || tt.name === '' || essentialName(lt.name) === essentialName(tt.name);
      case 'int':
        return lt.offset === 0 && (tt as typeof lt).offset === 0;
      case 'array':
        lid = lt.type;
        tid = (tt as typeof lt).type;
        continue;
      default:
        return false;
    }
  }
  throw new TooDeep(`field types ${localId} and ${targetId} nest too deeply`);
}

/**
 * The looser relation of TYPE_EXISTS, TYPE_SIZE and TYPE_ID_TARGET: same
 * kinds all the way down through pointers, arrays and function prototypes;
 * any two structs, unions, enums or forward declarations of the same kind are
 * compatible (their names were matched by the candidate search).
 */
export function typesCompatible(lb: Btf, localId: number, tb: Btf, targetId: number, level = MAX_CHAIN): boolean {
  if (!kindsCompatible(lb.get(localId), tb.get(targetId))) return false;
  let lid = localId;
  let tid = targetId;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const lt = lb.resolved(lid);
    const tt = tb.resolved(tid);
    if (!kindsCompatible(lt, tt)) return false;
    switch (lt.kind) {
      case 'void': case 'struct': case 'union': case 'enum': case 'enum64': case 'fwd':
        return true;
      case 'int':
        return lt.offset === 0 && (tt as typeof lt).offset === 0;
      case 'ptr': case 'array':
        lid = lt.type;
        tid = (tt as typeof lt).type;
        continue;
      case 'func_proto': {
        const tp = tt as typeof lt;
        if (lt.params.length !== tp.params.length) return false;
        if (level <= 0) throw new TooDeep(`function prototypes ${localId} and ${targetId} nest too deeply`);
        for (let i = 0; i < lt.params.length; i++) {
          if (!typesCompatible(lb, lb.resolve(lt.params[i]!.type), tb, tb.resolve(tp.params[i]!.type), level - 1)) return false;
        }
        lid = lt.returnType;
        tid = tp.returnType;
        continue;
      }
      default:
        return false;
    }
  }
  throw new TooDeep(`types ${localId} and ${targetId} nest too deeply`);
}

/** Names match when both are anonymous or they agree without flavors. */
const namesMatch = (local: string, target: string): boolean =>
  target === '' ? local === '' : essentialName(local) === essentialName(target);

/**
 * TYPE_MATCHES: the local type's shape must be found in the target. Ints
 * agree in size and signedness; every local enumerator and struct/union
 * member has a same-named target counterpart (members of matching type);
 * arrays agree in length; behind a pointer a struct may meet a forward
 * declaration of the same kind.
 */
export function typesMatch(lb: Btf, localId: number, tb: Btf, targetId: number, behindPtr = false, level = MAX_CHAIN): boolean {
  if (level <= 0) throw new TooDeep(`types ${localId} and ${targetId} nest too deeply`);
  let lid = localId;
  let tid = targetId;
  let ptr = behindPtr;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const lt = lb.resolved(lid);
    const tt = tb.resolved(tid);
    if (!namesMatch(lt.name, tt.name)) return false;
    switch (lt.kind) {
      case 'void':
        return tt.kind === 'void';
      case 'fwd':
        if (tt.kind === 'fwd') return lt.union === tt.union;
        return ptr && ((tt.kind === 'struct' && !lt.union) || (tt.kind === 'union' && lt.union));
      case 'enum': case 'enum64':
        return isEnum(tt) && enumsMatch(lt, tt);
      case 'struct': case 'union':
        if (ptr) return lt.kind === tt.kind || (tt.kind === 'fwd' && tt.union === (lt.kind === 'union'));
        return lt.kind === tt.kind && compositesMatch(lb, lt, tb, tt as BtfComposite, ptr, level);
      case 'int':
        return tt.kind === 'int' && lt.size === tt.size && lt.signed === tt.signed;
      case 'ptr':
        if (tt.kind !== 'ptr') return false;
        ptr = true;
        lid = lt.type;
        tid = tt.type;
        continue;
      case 'array':
        if (tt.kind !== 'array' || lt.nelems !== tt.nelems) return false;
        lid = lt.type;
        tid = tt.type;
        continue;
      case 'func_proto': {
        if (tt.kind !== 'func_proto' || lt.params.length !== tt.params.length) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (!typesMatch(lb, lt.params[i]!.type, tb, tt.params[i]!.type, ptr, level - 1)) return false;
        }
        lid = lt.returnType;
        tid = tt.returnType;
        continue;
      }
      default:
        return false;
    }
  }
  throw new TooDeep(`types ${localId} and ${targetId} nest too deeply`);
}

function enumsMatch(lt: BtfEnum, tt: BtfEnum): boolean {
  if (lt.size !== tt.size || lt.values.length > tt.values.length) return false;
  return lt.values.every((lv) => tt.values.some((tv) => namesMatch(lv.name, tv.name)));
}

function compositesMatch(lb: Btf, lt: BtfComposite, tb: Btf, tt: BtfComposite, behindPtr: boolean, level: number): boolean {
  if (lt.members.length > tt.members.length) return false;
  return lt.members.every((lm) =>
    tt.members.some((tm) => namesMatch(lm.name, tm.name) && typesMatch(lb, lm.type, tb, tm.type, behindPtr, level - 1)));
}
