/**
 * `tsbpf map list|dump|lookup|update`: the kernel's maps, as bpftool shows
 * them; `--json` entries have the shape of `tsbpf run --json`'s map entries.
 */
import { TsbpfError } from '../errors.js';
import { type KernelMap, type MapInfo, listMaps } from '../kernel/index.js';
import { UpdateFlag, mapTypeName } from '../object/index.js';
import { UsageError, parseArgs } from './args.js';
import { parseHex } from './hex.js';
import { entryFormat, kernelEntry, kernelMapEntries, unlistedReason } from './kernel-map-entries.js';
import { mapJson, openMapArg, toJsonLine } from './kernel-objects.js';
import { mapText } from './map-dump.js';
import { EXIT_FAULT, EXIT_OK, errorJson, reportError } from './report.js';

export const MAP_USAGE = `usage: tsbpf map list [--json]
       tsbpf map dump MAP [--json]
       tsbpf map lookup MAP KEYHEX [--json]
       tsbpf map update MAP KEYHEX VALUEHEX [any|noexist|exist] [--json]
MAP is a map id, a pin path in bpffs, or a name that only one map has.
KEYHEX and VALUEHEX are bytes in hex (spaces allowed; "" or - for maps
without keys). A per-CPU value may be given once, for every CPU. Values are
decoded through the map's BTF when it has some.
--json: list prints an array of {"id", "type", "name", "keySize", "valueSize",
"maxEntries", "flags", "btfId"}; dump an array of entries {"key", "value",
"formatted": {"key", "value"}} ("values": [{"cpu", "value"}] per CPU), as
\`tsbpf run --json\` does; lookup and update print the entry.
Exit codes: 0 success, 1 the key is not in the map, 2 bad input or a kernel error.`;

function mapLine(m: MapInfo): string {
  return `${m.id}: ${mapTypeName(m.type).toLowerCase()}  name ${m.name || '-'}  flags 0x${(m.flags >>> 0).toString(16)}\n` +
    `\tkey ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}${m.btfId ? `  btf_id ${m.btfId}` : ''}\n`;
}

function keyArg(map: KernelMap, text: string | undefined): Uint8Array {
  if (text === undefined) throw new UsageError('a key (hex bytes) is needed');
  const key = text === '-' ? new Uint8Array(0) : parseHex(text, 'the key');
  if (key.byteLength !== map.keySize) throw new UsageError(`map ${map.name || map.info().id} has ${map.keySize}-byte keys, the key given has ${key.byteLength} bytes`);
  return key;
}

function valueArg(map: KernelMap, text: string | undefined): Uint8Array | Uint8Array[] {
  if (text === undefined) throw new UsageError('a value (hex bytes) is needed');
  const v = parseHex(text, 'the value');
  if (map.perCpu && v.byteLength === map.valueSize) return Array.from({ length: map.cpus }, () => v);
  if (v.byteLength !== map.valueBytes) {
    throw new UsageError(`map ${map.name} takes ${map.valueSize}-byte values${map.perCpu ? ` (or ${map.valueBytes} bytes: ${map.cpus} CPUs × ${map.slotSize})` : ''}, the value given has ${v.byteLength} bytes`);
  }
  return v;
}

const FLAGS: Readonly<Record<string, number>> = { any: UpdateFlag.ANY, noexist: UpdateFlag.NOEXIST, exist: UpdateFlag.EXIST };

/** Prints one element, or says it is not there (exit 1). */
function printLookup(map: KernelMap, key: Uint8Array, json: boolean): number {
  const value = map.lookup(key.byteLength ? key : null);
  if (value === null) {
    const e = new TsbpfError('ENOKEY', `key ${text(key)} is not in map ${map.name}`, { map: map.name });
    if (json) process.stdout.write(toJsonLine(errorJson(e)));
    else process.stderr.write(`tsbpf: ${e.message}\n`);
    return EXIT_FAULT;
  }
  const entry = kernelEntry(map, entryFormat(map.info()), key, value);
  if (json) process.stdout.write(toJsonLine(entry));
  else for (const l of mapText(map.name, map.typeName, [entry]).slice(1)) process.stdout.write(l.replace(/^  /, '') + '\n');
  return EXIT_OK;
}

const text = (b: Uint8Array): string => (b.byteLength ? Buffer.from(b).toString('hex') : '(none)');

export function cmdMap(argv: readonly string[]): number {
  const json = argv.includes('--json');
  try {
    const p = parseArgs(argv, [], ['--json', '--help']);
    const [sub, ref, a, b, c, ...extra] = p.positionals;
    if (p.flags.has('--help') || sub === 'help') { process.stdout.write(MAP_USAGE + '\n'); return EXIT_OK; }
    if (sub === 'list' || sub === undefined) {
      if (ref !== undefined) throw new UsageError(`map list takes no arguments, got ${JSON.stringify(ref)}`);
      const all = listMaps();
      process.stdout.write(json ? toJsonLine(all.map(mapJson)) : all.map(mapLine).join(''));
      return EXIT_OK;
    }
    const arity: Record<string, number> = { dump: 0, lookup: 1, update: 3 };
    const n = arity[sub];
    if (n === undefined) throw new UsageError(`unknown map command ${JSON.stringify(sub)} (list, dump, lookup, update)`);
    const given = [a, b, c, ...extra].filter((x) => x !== undefined).length;
    if (given > n || (sub === 'lookup' && given < 1) || (sub === 'update' && given < 2)) {
      throw new UsageError(`map ${sub} takes ${sub === 'dump' ? 'MAP' : sub === 'lookup' ? 'MAP KEYHEX' : 'MAP KEYHEX VALUEHEX [any|noexist|exist]'}`);
    }
    const map = openMapArg(ref);
    try {
      if (sub === 'dump') {
        const info = map.info();
        const entries = kernelMapEntries(map, entryFormat(info));
        if (json) {
          process.stdout.write(toJsonLine(entries));
        } else {
          for (const l of mapText(`${info.id}: ${info.name || '-'}`, mapTypeName(info.type), entries)) process.stdout.write(l + '\n');
          const why = unlistedReason(info.type);
          if (why) process.stdout.write(`  (not listed: ${why})\n`);
        }
        return EXIT_OK;
      }
      const key = keyArg(map, a);
      if (sub === 'lookup') return printLookup(map, key, json);
      const flag = c === undefined ? UpdateFlag.ANY : FLAGS[c];
      if (flag === undefined) throw new UsageError(`unknown update flag ${JSON.stringify(c)} (any, noexist, exist)`);
      map.update(key.byteLength ? key : null, valueArg(map, b), flag);
      if (key.byteLength === 0) {
        if (json) process.stdout.write(toJsonLine({ value: b!.replace(/\s+/g, '').toLowerCase() }));
        return EXIT_OK;
      }
      return printLookup(map, key, json);
    } finally {
      map.close();
    }
  } catch (e) {
    return reportError(e, json);
  }
}
