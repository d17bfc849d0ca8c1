/** `tsbpf feature probe`: what this kernel's eBPF supports, as bpftool feature probe. */
import { type FeatureProbeOptions, probeFeatures } from '../kernel/index.js';
import { ProgType, type ProgTypeName } from '../object/index.js';
import { UsageError, parseArgs } from './args.js';
import { toJsonLine } from './kernel-objects.js';
import { EXIT_OK, reportError } from './report.js';

export const FEATURE_USAGE = `usage: tsbpf feature probe [--helpers TYPE,...|all|none] [--json]
Probes which program types and map types this kernel supports, by loading a
minimal program or creating a minimal map of each, and which helpers each
program type may call (--helpers: all by default; or a comma-separated list
of program types, such as xdp,kprobe; none to skip them).
--json prints {"kernel", "programTypes": {TYPE: bool}, "mapTypes": {TYPE: bool},
"helpers": {TYPE: [NAME]}}.`;

function helperOption(v: string | true | undefined): FeatureProbeOptions['helpers'] | null {
  if (v === undefined || v === 'all') return 'all';
  if (v === true || v === 'none') return null;
  return v.split(',').filter(Boolean).map((t) => {
    const name = t.toUpperCase().replace(/-/g, '_');
    if (!(name in ProgType) || name === 'UNSPEC') throw new UsageError(`unknown program type ${JSON.stringify(t)} (for example xdp, socket_filter, kprobe)`);
    return name as ProgTypeName;
  });
}

export function cmdFeature(argv: readonly string[]): number {
  const json = argv.includes('--json');
  try {
    const p = parseArgs(argv, ['--helpers'], ['--json', '--help']);
    const [sub, ...extra] = p.positionals;
    if (p.flags.has('--help') || sub === 'help') { process.stdout.write(FEATURE_USAGE + '\n'); return EXIT_OK; }
    if (sub !== 'probe') throw new UsageError(`unknown feature command ${JSON.stringify(sub ?? '')} (probe)`);
    if (extra.length) throw new UsageError(`feature probe takes no arguments, got ${JSON.stringify(extra[0])}`);
    const helpers = helperOption(p.flags.get('--helpers'));
    const report = probeFeatures(helpers === null ? {} : { helpers });
    if (json) {
      process.stdout.write(toJsonLine(report));
      return EXIT_OK;
    }
    const w = (s: string): void => { process.stdout.write(s + '\n'); };
    const yes = (b: boolean): string => (b ? 'is available' : 'is NOT available');
    w(`kernel ${report.kernel}`);
    for (const [t, ok] of Object.entries(report.programTypes)) w(`program type ${t.toLowerCase()} ${yes(ok)}`);
    for (const [t, ok] of Object.entries(report.mapTypes)) w(`map type ${t.toLowerCase()} ${yes(ok)}`);
    for (const [t, names] of Object.entries(report.helpers ?? {})) {
      w(`helpers for ${t.toLowerCase()} (${names.length}):`);
      for (const n of names) w(`\t${n}`);
    }
    return EXIT_OK;
  } catch (e) {
    return reportError(e, json);
  }
}
