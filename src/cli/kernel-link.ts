/** `tsbpf link list|detach`: the system's bpf_links, as bpftool shows them. */
import { type LinkInfo, detachLinkById, linkInfoById, listLinks } from '../kernel/index.js';
import { UsageError, parseArgs } from './args.js';
import { linkJson, parseId, toJsonLine } from './kernel-objects.js';
import { EXIT_OK, reportError } from './report.js';

export const LINK_USAGE = `usage: tsbpf link list [--json]
       tsbpf link detach ID [--json]
Lists the kernel's bpf_links ({"id", "type", "progId", "ifindex"?,
"attachType"?} with --json), or detaches one by id: its program leaves the
hook at once, whoever holds the link (BPF_LINK_DETACH).`;

function linkText(l: LinkInfo): string {
  let s = `${l.id}: ${l.typeName.toLowerCase()}  prog ${l.progId}`;
  if (l.ifindex !== undefined) s += `  ifindex ${l.ifindex}`;
  if (l.attachType !== undefined) s += `  attach_type ${l.attachType}`;
  return s + '\n';
}

export function cmdLink(argv: readonly string[]): number {
  const json = argv.includes('--json');
  try {
    const p = parseArgs(argv, [], ['--json', '--help']);
    const [sub, ref, ...extra] = p.positionals;
    if (p.flags.has('--help') || sub === 'help') { process.stdout.write(LINK_USAGE + '\n'); return EXIT_OK; }
    if (sub === 'list' || sub === undefined) {
      if (ref !== undefined) throw new UsageError(`link list takes no arguments, got ${JSON.stringify(ref)}`);
      const all = listLinks();
      process.stdout.write(json ? toJsonLine(all.map(linkJson)) : all.map(linkText).join(''));
      return EXIT_OK;
    }
    if (sub === 'detach') {
      if (extra.length) throw new UsageError(`link detach takes one ID, got ${extra.length + 1}`);
      const id = parseId(ref, 'link');
      const before = linkInfoById(id);
      detachLinkById(id);
      process.stdout.write(json ? toJsonLine({ detached: linkJson(before) }) : `detached link ${id} (${before.typeName.toLowerCase()}, prog ${before.progId})\n`);
      return EXIT_OK;
    }
    throw new UsageError(`unknown link command ${JSON.stringify(sub)} (list, detach)`);
  } catch (e) {
    return reportError(e, json);
  }
}
