#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { cmdAsm, cmdDisasm, ASM_USAGE, DISASM_USAGE } from './asm.js';
import { cmdConformancePlugin, PLUGIN_USAGE } from './conformance-plugin.js';
import { cmdInspect, INSPECT_USAGE } from './inspect.js';
import { cmdGen, GEN_USAGE } from './gen-skeleton.js';
import { cmdProbe, PROBE_USAGE } from './probe.js';
import { cmdFeature, FEATURE_USAGE } from './feature.js';
import { cmdLink, LINK_USAGE } from './kernel-link.js';
import { cmdMap, MAP_USAGE } from './kernel-map.js';
import { cmdProg, PROG_USAGE } from './kernel-prog.js';
import { EXIT_BAD_INPUT, EXIT_OK } from './report.js';
import { cmdRun, RUN_USAGE } from './run.js';
import { cmdRunObject, isObjectRun, RUN_OBJECT_USAGE } from './run-object.js';

const USAGE = `tsbpf — the eBPF platform for TypeScript

commands:
  run PROG [--mem FILE] [--json] [--trace] [--repeat N] [--budget N] [--engine jit|interp]
                         run bytecode or assembly, checked (JIT by default)
  run OBJ.o --pcap IN.pcap [--prog NAME] [--out OUT.pcap] [--json] [--cpus N]
                         run an object's packet programs on a capture, then show its maps
  asm FILE [-o OUT]      assemble (LLVM or uBPF syntax, detected) to bytecode
  disasm FILE [--syntax llvm|ubpf]
                         disassemble bytecode
  conformance-plugin [MEM] [--engine jit|interp]
                         plugin for the bpf_conformance runner
  inspect OBJ.o [--json] [--types] [--lines]
                         list an object's programs, maps, globals, BTF types and source lines
  gen skeleton OBJ.o [--import MODULE]
                         print a typed TypeScript skeleton of an object
  probe [--json]         can the kernel's eBPF be used from here?
  prog list|show PROG [--json]
                         the kernel's loaded programs (like bpftool prog)
  map list|dump|lookup|update MAP ... [--json]
                         the kernel's maps and their elements (like bpftool map)
  link list|detach ID [--json]
                         the kernel's bpf_links (like bpftool link)
  feature probe [--helpers TYPES|all|none] [--json]
                         program types, map types and helpers this kernel supports

exit codes: 0 success, 1 the program faulted or ran out of budget, 2 bad input or usage.
Run 'tsbpf COMMAND --help' for a command's details.`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': return isObjectRun(rest) ? await cmdRunObject(rest) : await cmdRun(rest);
    case 'asm': return cmdAsm(rest);
    case 'disasm': return cmdDisasm(rest);
    case 'conformance-plugin': return cmdConformancePlugin(rest);
    case 'probe': return cmdProbe(rest);
    case 'inspect': return cmdInspect(rest);
    case 'gen': return cmdGen(rest);
    case 'prog': return cmdProg(rest);
    case 'map': return cmdMap(rest);
    case 'link': return cmdLink(rest);
    case 'feature': return cmdFeature(rest);
    case '--version': case '-V': process.stdout.write(version() + '\n'); return EXIT_OK;
    case undefined: case '--help': case '-h': case 'help':
      process.stdout.write(USAGE + '\n');
      return cmd === undefined ? EXIT_BAD_INPUT : EXIT_OK;
    default:
      process.stderr.write(`tsbpf: unknown command ${JSON.stringify(cmd)}\n${USAGE}\n`);
      return EXIT_BAD_INPUT;
  }
}

export const HELP = { RUN_USAGE, RUN_OBJECT_USAGE, ASM_USAGE, DISASM_USAGE, PLUGIN_USAGE, PROBE_USAGE, INSPECT_USAGE, GEN_USAGE, PROG_USAGE, MAP_USAGE, LINK_USAGE, FEATURE_USAGE };

// A reader that goes away (`tsbpf ... | head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
