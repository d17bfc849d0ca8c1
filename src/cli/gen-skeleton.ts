/**
 * `tsbpf gen skeleton OBJ.o`: a TypeScript module that embeds the object and
 * types its maps (key and value interfaces from BTF), its global variables
 * and its programs, like `bpftool gen skeleton` does for C and bpf2go for Go.
 */
import { isModifier, type Btf, type BtfComposite } from '../btf/index.js';
import { loadObject, MapType, mapTypeName, type ObjectSpec } from '../object/index.js';
import { sectionKey } from '../api/index.js';
import { parseArgs, UsageError } from './args.js';
import { readInput } from './input.js';
import { objectName } from './inspect.js';
import { EXIT_OK, reportError } from './report.js';

export const GEN_USAGE = `usage: tsbpf gen skeleton OBJ.o [--import MODULE] > obj.skel.ts
  Prints a TypeScript module with the object embedded, typed maps, typed
  globals and its programs. --import names the module the skeleton imports
  its runtime from (default: tsbpf).`;

const PERCPU: readonly number[] = [MapType.PERCPU_ARRAY, MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH];
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const prop = (name: string): string => (IDENT.test(name) ? name : JSON.stringify(name));
const pascal = (s: string): string => s.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') || 'Anon';

/** Turns BTF types into TypeScript declarations, naming each struct once. */
class TypeWriter {
  readonly decls: string[] = [];
  private readonly named = new Map<number, string>();
  /** Names the module itself declares or imports: a C struct named like one gets a suffix. */
  private readonly used = new Set<string>(['TypedMap', 'Skeleton', 'SkeletonOptions', 'Array', 'Uint8Array', 'Record', 'Partial', 'Readonly', 'Map', 'Set', 'Object', 'String', 'Number', 'BigInt', 'Boolean', 'Error', 'Promise']);

  constructor(private readonly btf: Btf, reserved: readonly string[] = []) {
    for (const r of reserved) this.used.add(r);
  }

  private nameFor(t: BtfComposite): string {
    let base = pascal(t.name);
    if (base === 'Anon' || this.used.has(base)) {
      let n = 2;
      while (this.used.has(`${base}${n}`)) n++;
      base = `${base}${n}`;
    }
    this.used.add(base);
    return base;
  }

  /** The TypeScript type of values of BTF type `id`, as `decodeValue` produces them. */
  type(id: number, depth = 0): string {
    if (depth > 32) return 'unknown';
    const btf = this.btf;
    let t = btf.get(id);
    while (isModifier(t)) t = btf.get(t.type);
    switch (t.kind) {
      case 'int': {
        if (t.bool) return 'boolean | number';
        return t.bits <= 32 ? 'number' : 'bigint';
      }
      case 'float': return 'number';
      case 'ptr': return 'bigint';
      case 'enum': case 'enum64': {
        const names = t.values.map((v) => JSON.stringify(v.name));
        return [...names, t.size <= 4 ? 'number' : 'bigint'].join(' | ');
      }
      case 'array': {
        let e = btf.get(t.type);
        while (isModifier(e)) e = btf.get(e.type);
        if (e.kind === 'int' && e.size === 1 && (e.char || e.name === 'char' || e.name === 'signed char' || e.name === 'unsigned char')) return 'string | number[]';
        const inner = this.type(t.type, depth + 1);
        return `Array<${inner}>`;
      }
      case 'struct': case 'union': {
        if (t.name === '') return this.inline(t, depth);
        const hit = this.named.get(t.id);
        if (hit) return hit;
        const n = this.nameFor(t);
        this.named.set(t.id, n);
        this.decls.push(`/** ${t.kind} ${t.name} (${t.size} bytes) */\nexport interface ${n} ${this.inline(t, depth)}`);
        return n;
      }
      case 'datasec': {
        const fields = t.vars.map((v) => {
          const vt = btf.get(v.type);
          return vt.kind === 'var' ? `  ${prop(vt.name)}: ${this.type(vt.type, depth + 1)};` : '';
        }).filter(Boolean);
        return `{\n${fields.map((f) => '  ' + f).join('\n')}\n  }`;
      }
      default: return 'unknown';
    }
  }

  /** The members of a struct or union, anonymous members flattened as C does. */
  private members(t: BtfComposite, depth: number, out: string[]): void {
    for (const m of t.members) {
      let mt = this.btf.get(m.type);
      while (isModifier(mt)) mt = this.btf.get(mt.type);
      if (m.name === '') {
        if (mt.kind === 'struct' || mt.kind === 'union') this.members(mt, depth + 1, out);
        continue;
      }
      const ty = m.bitSize > 0 ? (m.bitSize <= 32 ? (mt.kind === 'enum' ? this.type(m.type, depth + 1) : 'number') : 'bigint') : this.type(m.type, depth + 1);
      out.push(`  ${prop(m.name)}: ${ty};`);
    }
  }

  private inline(t: BtfComposite, depth: number): string {
    const out: string[] = [];
    this.members(t, depth, out);
    return `{\n${out.join('\n')}\n}`;
  }
}

/** Without BTF: keys and values are bytes (or little-endian integers as input). */
const RAW = 'Uint8Array';

export function generateSkeleton(spec: ObjectSpec, bytes: Uint8Array, runtime = 'tsbpf'): string {
  const btf = spec.btf;
  const base = pascal(spec.name);
  const tw = btf ? new TypeWriter(btf, [`${base}Maps`, `${base}Globals`, `${base}Program`]) : null;
  const typeOf = (id: number): string => (tw && id !== 0 ? tw.type(id) : RAW);
  const maps: string[] = [];
  const globals: string[] = [];
  for (const m of spec.maps.values()) {
    if (m.data !== null) {
      const sec = btf?.find(m.section, 'datasec');
      globals.push(`  /** ${m.section} (map ${m.name}${m.readonly ? ', read-only' : ''}) */\n  readonly ${prop(sectionKey(m.section))}: ${sec && tw ? tw.type(sec.id) : RAW};`);
      continue;
    }
    const k = typeOf(m.keyTypeId);
    const v = typeOf(m.valueTypeId);
    maps.push(`  /** ${m.name}: ${mapTypeName(m.type)} max_entries ${m.maxEntries} */\n  readonly ${prop(m.name)}: TypedMap<${k}, ${PERCPU.includes(m.type) ? `Array<${v}>` : v}>;`);
  }
  const progs = [...spec.programs.keys()];
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = [
    `// Generated by \`tsbpf gen skeleton\` from ${spec.name}.o. Do not edit.`,
    `import { openSkeleton, type Skeleton, type SkeletonOptions, type TypedMap } from ${JSON.stringify(runtime)};`,
    '',
    ...(tw ? tw.decls.map((d) => d + '\n') : []),
    `export interface ${base}Maps {\n${maps.join('\n')}\n}`,
    '',
    `export interface ${base}Globals {\n${globals.join('\n')}\n}`,
    '',
    `export type ${base}Program = ${progs.length ? progs.map((p) => JSON.stringify(p)).join(' | ') : 'never'};`,
    `export const programNames: readonly ${base}Program[] = ${JSON.stringify(progs)};`,
    '',
    `/** The object file, as built. */`,
    `export const objectBase64 = ${JSON.stringify(b64)};`,
    '',
    `/** Loads ${spec.name}.o into the vm. \`opts.globals\` sets global variables before load. */`,
    `export function load${base}(opts: SkeletonOptions = {}): Skeleton<${base}Maps, ${base}Globals, ${base}Program> {`,
    `  return openSkeleton<${base}Maps, ${base}Globals, ${base}Program>(objectBase64, ${JSON.stringify(spec.name)}, opts);`,
    '}',
    '',
  ];
  return lines.join('\n');
}

export function cmdGen(argv: readonly string[]): number {
  try {
    const p = parseArgs(argv, ['--import'], ['--help', '-h']);
    if (p.flags.has('--help') || p.flags.has('-h')) { process.stdout.write(GEN_USAGE + '\n'); return EXIT_OK; }
    const [what, path, ...extra] = p.positionals;
    if (what !== 'skeleton' || path === undefined || extra.length > 0) throw new UsageError(GEN_USAGE);
    const bytes = readInput(path);
    const spec = loadObject(bytes, objectName(path));
    const runtime = p.flags.get('--import');
    process.stdout.write(generateSkeleton(spec, bytes, typeof runtime === 'string' ? runtime : 'tsbpf'));
    return EXIT_OK;
  } catch (e) {
    return reportError(e, false);
  }
}
