import { probeKernel } from '../kernel/index.js';
import { parseArgs } from './args.js';
import { EXIT_FAULT, EXIT_OK, reportError } from './report.js';

export const PROBE_USAGE = `usage: tsbpf probe [--json]
Says whether the kernel's eBPF can be used from here (bpf(2) through koffi),
and why not when it cannot. Exits 0 when usable, 1 when not.`;

export function cmdProbe(argv: readonly string[]): number {
  const json = argv.includes('--json');
  try {
    const p = parseArgs(argv, [], ['--json', '--help']);
    if (p.flags.has('--help')) { process.stdout.write(PROBE_USAGE + '\n'); return EXIT_OK; }
    const r = probeKernel();
    if (json) process.stdout.write(JSON.stringify(r) + '\n');
    else process.stdout.write(r.usable ? 'kernel: usable (bpf(2) loads and test-runs programs)\n' : `kernel: not usable: ${r.reason}\n`);
    return r.usable ? EXIT_OK : EXIT_FAULT;
  } catch (e) {
    return reportError(e, json);
  }
}
