/**
 * `autoAttach`: attaches a loaded program the way its ELF section says, as
 * libbpf's auto-attach does for tracing programs:
 *   tracepoint/CAT/NAME, tp/CAT/NAME           → attachTracepoint
 *   raw_tracepoint/NAME, raw_tp/NAME (+ .w)    → attachRawTracepoint
 *   tp_btf/NAME, fentry/, fexit/, fmod_ret/, lsm/ → attachTracing
 *   iter/NAME                                  → attachIter
 *   uprobe/PATH:FUNC[+OFF], uretprobe/… (+ .s) → attachUprobe
 *   kprobe/FUNC[+OFF], kretprobe/FUNC          → attachKprobe
 *   ksyscall/NAME, kretsyscall/NAME            → attachKprobe on the syscall's entry
 * Other sections (and these without a target) raise `ENOAUTOATTACH`.
 */
import type { ObjectSpec, ProgramSpec } from '../object/spec.js';
import { AttachError } from './attach-error.js';
import { attachKprobe, attachRawTracepoint, attachTracepoint, attachTracing, attachUprobe, type TracepointOptions } from './attach-trace.js';
import { attachIter } from './iter.js';
import type { Link } from './link.js';

/** What autoAttach needs of a loaded collection (KernelCollection has it). */
export interface ProgramSource {
  program(name: string): { readonly fd: number };
}

export interface AutoAttachOptions extends TracepointOptions {
  /** The object the collection was loaded from, when the collection does not carry it. */
  spec?: ObjectSpec;
  /** For uprobes: only this process. */
  pid?: number;
}

/** The syscall entry symbol of this architecture (`__x64_sys_NAME`). */
const syscallPrefix = (): string => (process.arch === 'arm64' ? '__arm64_sys_' : '__x64_sys_');

function specOf(collection: ProgramSource, opts: AutoAttachOptions): ObjectSpec | undefined {
  if (opts.spec) return opts.spec;
  const carried = (collection as { spec?: unknown }).spec;
  return carried && typeof carried === 'object' && 'programs' in carried ? (carried as ObjectSpec) : undefined;
}

/** Attaches `programName` of `collection` by its section name; see the file comment for the forms. */
export function autoAttach(collection: ProgramSource, programName: string, opts: AutoAttachOptions = {}): Link {
  const spec = specOf(collection, opts);
  const p = spec?.programs.get(programName);
  if (!p) {
    throw new AttachError('ENOAUTOATTACH', spec ? `the object has no program "${programName}"` : `auto-attach of "${programName}" needs the ObjectSpec it was loaded from (pass { spec })`, { program: programName });
  }
  return attachBySection(collection.program(programName), p, opts);
}

/** Attaches a loaded program as its ProgramSpec's section says. */
export function attachBySection(prog: { readonly fd: number }, p: ProgramSpec, opts: AutoAttachOptions = {}): Link {
  const section = p.section.replace(/^\?/, '');
  const slash = section.indexOf('/');
  const kind = (slash < 0 ? section : section.slice(0, slash)).replace(/\.(s|w)$/, '');
  const target = p.attachTo;
  const none = (why: string): AttachError =>
    new AttachError('ENOAUTOATTACH', `program ${p.name} (section "${p.section}") cannot be auto-attached: ${why}`, { program: p.name, section: p.section });
  switch (kind) {
    case 'tracepoint':
    case 'tp': {
      const cut = target.indexOf('/');
      if (cut <= 0 || cut === target.length - 1) throw none('the section names no tracepoint (tracepoint/CATEGORY/NAME)');
      return attachTracepoint(prog, target.slice(0, cut), target.slice(cut + 1), opts);
    }
    case 'raw_tracepoint':
    case 'raw_tp':
      if (!target) throw none('the section names no tracepoint (raw_tp/NAME)');
      return attachRawTracepoint(prog, target);
    case 'tp_btf':
    case 'fentry':
    case 'fexit':
    case 'fmod_ret':
    case 'lsm':
      return attachTracing(prog, p.expectedAttachType !== null ? { attachType: p.expectedAttachType } : {});
    case 'iter':
      return attachIter(prog);
    case 'uprobe':
    case 'uretprobe': {
      const m = /^(.+):([^:]+)$/.exec(target);
      if (!m) throw none('the section names no binary and function (uprobe/PATH:FUNCTION)');
      return attachUprobe(prog, m[1]!, m[2]!, { retprobe: kind === 'uretprobe', ...(opts.pid !== undefined ? { pid: opts.pid } : {}) });
    }
    case 'kprobe':
    case 'kretprobe': {
      const m = /^([A-Za-z0-9_.]+)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(target);
      if (!m) throw none('the section names no kernel function (kprobe/FUNCTION[+OFFSET])');
      return attachKprobe(prog, m[1]!, { retprobe: kind === 'kretprobe', ...(m[2] ? { offset: Number(m[2]) } : {}) });
    }
    case 'ksyscall':
    case 'kretsyscall':
      if (!/^[A-Za-z0-9_]+$/.test(target)) throw none('the section names no syscall (ksyscall/NAME)');
      return attachKprobe(prog, syscallPrefix() + target, { retprobe: kind === 'kretsyscall' });
    case 'perf_event':
      throw none('a perf_event program needs an event and a rate: use attachPerfEvent');
    default:
      throw none(`"${kind}" programs are not tracing programs; attach them with their own function (XDP, tc, socket...)`);
  }
}
