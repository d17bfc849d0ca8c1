/** `tsbpf prog list|show`: the system's loaded programs, as bpftool shows them. */
import { type ProgDetails, listPrograms } from '../kernel/index.js';
import { UsageError, parseArgs } from './args.js';
import { programArg, progJson, toJsonLine } from './kernel-objects.js';
import { EXIT_OK, reportError } from './report.js';

export const PROG_USAGE = `usage: tsbpf prog list [--json]
       tsbpf prog show PROG [--json]
Lists the programs loaded in the kernel, or shows one. PROG is an id, a pin
path in bpffs, or a name that only one program has. --json prints an array
(list) or one object (show): {"id", "type", "name", "tag", "gplCompatible",
"loadedAt", "uid", "bytesXlated", "jited", "bytesJited", "mapIds", "btfId",
"verifiedInsns", "runTimeNs", "runCnt"}.`;

function progText(p: ProgDetails): string {
  const lines = [`${p.id}: ${p.typeName.toLowerCase()}  name ${p.name || '-'}  tag ${p.tag}${p.gplCompatible ? '  gpl' : ''}`];
  lines.push(`\tloaded_at ${p.loadedAt?.toISOString() ?? '?'}  uid ${p.uid}`);
  lines.push(`\txlated ${p.bytesXlated}B  ${p.jited ? `jited ${p.bytesJited}B` : 'not jited'}${p.mapIds.length ? `  map_ids ${p.mapIds.join(',')}` : ''}`);
  if (p.btfId) lines.push(`\tbtf_id ${p.btfId}`);
  if (p.runCnt > 0n) lines.push(`\trun_time_ns ${p.runTimeNs}  run_cnt ${p.runCnt}`);
  return lines.join('\n') + '\n';
}

export function cmdProg(argv: readonly string[]): number {
  const json = argv.includes('--json');
  try {
    const p = parseArgs(argv, [], ['--json', '--help']);
    const [sub, ref, ...extra] = p.positionals;
    if (p.flags.has('--help') || sub === 'help') { process.stdout.write(PROG_USAGE + '\n'); return EXIT_OK; }
    if (sub === 'list' || sub === undefined) {
      if (ref !== undefined) throw new UsageError(`prog list takes no arguments, got ${JSON.stringify(ref)}`);
      const all = listPrograms();
      process.stdout.write(json ? toJsonLine(all.map(progJson)) : all.map(progText).join(''));
      return EXIT_OK;
    }
    if (sub === 'show') {
      if (extra.length) throw new UsageError(`prog show takes one program, got ${extra.length + 1}`);
      const info = programArg(ref);
      process.stdout.write(json ? toJsonLine(progJson(info)) : progText(info));
      return EXIT_OK;
    }
    throw new UsageError(`unknown prog command ${JSON.stringify(sub)} (list, show)`);
  } catch (e) {
    return reportError(e, json);
  }
}
