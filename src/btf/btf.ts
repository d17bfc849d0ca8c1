import { BtfError } from './errors.js';
import { encodeBtf } from './encode.js';
import { parseBtfBytes } from './parse.js';
import type { StringTable } from './strings.js';
import { isModifier, type BtfKindName, type BtfType } from './types.js';

/** Deeper chains than this are treated as a loop. */
const MAX_CHAIN = 64;

/** Parsed BTF: types by id, with the questions loaders and decoders ask of them. */
export class Btf {
  readonly types: BtfType[];
  readonly littleEndian: boolean;
  private byName: Map<string, number[]> | null = null;

  /** The parsed section's string table (`.BTF.ext` records point into it), or null for built BTF. */
  readonly strings: StringTable | null;

  constructor(types: BtfType[], littleEndian = true, strings: StringTable | null = null) {
    if (types[0]?.kind !== 'void') throw new TypeError('types[0] must be void');
    this.types = types;
    this.littleEndian = littleEndian;
    this.strings = strings;
  }

  static parse(bytes: Uint8Array): Btf {
    const raw = parseBtfBytes(bytes);
    return new Btf(raw.types, raw.littleEndian, raw.strings);
  }

  /** The section bytes for these types (after any edits). */
  encode(): Uint8Array {
    return encodeBtf(this.types, this.littleEndian);
  }

  get(id: number): BtfType {
    const t = this.types[id];
    if (t === undefined) throw new BtfError('.BTF', 0, `no type ${id} (there are ${this.types.length})`);
    return t;
  }

  /** Follows typedefs and qualifiers to the underlying type's id. */
  resolve(id: number): number {
    let t = this.get(id);
    for (let n = 0; isModifier(t); n++) {
      if (n > MAX_CHAIN) throw new BtfError('.BTF', 0, `type ${id} is a loop of typedefs or qualifiers`);
      t = this.get(t.type);
    }
    return t.id;
  }

  resolved(id: number): BtfType {
    return this.get(this.resolve(id));
  }

  /** `sizeof` the type, or throws for types without a size (void, func, fwd). */
  sizeOf(id: number): number {
    let mult = 1;
    let t = this.get(id);
    for (let n = 0; ; n++) {
      if (n > MAX_CHAIN) throw new BtfError('.BTF', 0, `type ${id} is a loop`);
      switch (t.kind) {
        case 'int': case 'struct': case 'union': case 'enum': case 'enum64': case 'float': case 'datasec':
          return mult * t.size;
        case 'ptr':
          return mult * 8;
        case 'array':
          mult *= t.nelems;
          t = this.get(t.type);
          continue;
        case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag': case 'var':
          t = this.get(t.type);
          continue;
        default:
          throw new BtfError('.BTF', 0, `type ${id} (${t.kind}) has no size`);
      }
    }
  }

  /** Ids of the types with this name (and kind). */
  findAll(name: string, kind?: BtfKindName): number[] {
    if (this.byName === null) {
      this.byName = new Map();
      for (const t of this.types) {
        if (t.name === '') continue;
        const l = this.byName.get(t.name);
        if (l) l.push(t.id); else this.byName.set(t.name, [t.id]);
      }
    }
    const ids = this.byName.get(name) ?? [];
    return kind === undefined ? ids : ids.filter((id) => this.types[id]!.kind === kind);
  }

  find(name: string, kind?: BtfKindName): BtfType | null {
    const id = this.findAll(name, kind)[0];
    return id === undefined ? null : this.types[id]!;
  }

  /** The type as C would spell it in a declaration, such as `struct iphdr *` or `unsigned int[4]`. */
  typeName(id: number): string {
    return this.declare(id, '').trim();
  }

  /** `T name` in C declarator syntax (arrays and pointers included). */
  declare(id: number, inner: string, depth = 0): string {
    if (depth > MAX_CHAIN) return `/* loop */ ${inner}`;
    const t = this.get(id);
    const sp = inner === '' || inner.startsWith('[') ? inner : ` ${inner}`;
    switch (t.kind) {
      case 'void': return `void${sp}`;
      case 'int': case 'float': case 'typedef': return `${t.name}${sp}`;
      case 'struct': case 'union': return `${t.kind} ${t.name || '(anon)'}${sp}`;
      case 'enum': case 'enum64': return `enum ${t.name || '(anon)'}${sp}`;
      case 'fwd': return `${t.union ? 'union' : 'struct'} ${t.name}${sp}`;
      case 'const': case 'volatile': case 'restrict': {
        // `const int x`, but `int *const p`: a qualifier of a pointer follows the star.
        if (this.get(t.type).kind === 'ptr') return this.declare(t.type, `${t.kind}${sp}`, depth + 1).replace(/ $/, '');
        return `${t.kind} ${this.declare(t.type, inner, depth + 1)}`;
      }
      case 'type_tag': return this.declare(t.type, inner, depth + 1);
      case 'ptr': {
        const target = this.get(t.type);
        const wrap = target.kind === 'array' || target.kind === 'func_proto' ? `(*${inner})` : `*${inner}`;
        return this.declare(t.type, wrap, depth + 1);
      }
      case 'array': return this.declare(t.type, `${inner}[${t.nelems}]`, depth + 1);
      case 'func_proto': {
        const params = t.params.length === 0 ? 'void' : t.params.map((q) => (q.type === 0 ? '...' : this.declare(q.type, q.name, depth + 1))).join(', ');
        return this.declare(t.returnType, `${inner}(${params})`, depth + 1);
      }
      case 'func': return this.declare(t.type, t.name, depth + 1);
      case 'var': return this.declare(t.type, t.name, depth + 1);
      case 'datasec': return `SEC("${t.name}")`;
      case 'decl_tag': return `__attribute__((btf_decl_tag("${t.name}")))`;
    }
  }
}
