/**
 * The mount(2) plumbing bpffs and tracefs share: finding a file system's
 * mount points in /proc/self/mounts, mounting, and lazily unmounting.
 */
import { readFileSync } from 'node:fs';
import { KernelError } from './errors.js';
import { loadFfi } from './syscall.js';

/** `umount2` flag: detach now, finish when the last user is gone. */
const MNT_DETACH = 2;

interface MountFns {
  mount: (src: string, target: string, type: string, flags: number, data: null) => number;
  umount2: (target: string, flags: number) => number;
}
let fns: MountFns | undefined;

/** libc's mount(2) and umount2(2), declared on first use. */
function mountFns(): MountFns {
  if (fns) return fns;
  const { libc } = loadFfi();
  fns = {
    mount: libc.func('int mount(const char *, const char *, const char *, unsigned long, const void *)') as MountFns['mount'],
    umount2: libc.func('int umount2(const char *, int)') as MountFns['umount2'],
  };
  return fns;
}

/** Mount points of file system `type` in this mount namespace, in mount order. */
export function mountsOf(type: string): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [, dir, fstype] = line.split(' ');
    // /proc/mounts escapes blanks as \040 and so on.
    if (fstype === type && dir) out.push(dir.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** mount(2) of `type` at `dir`; the errno (0 on success). */
export function mountFs(source: string, dir: string, type: string): number {
  return mountFns().mount(source, dir, type, 0, null) < 0 ? loadFfi().koffi.errno() : 0;
}

/** Lazily unmounts `dir` (open files keep it alive), or throws the KernelError. */
export function unmountLazily(dir: string, what: string): void {
  if (mountFns().umount2(dir, MNT_DETACH) < 0) throw new KernelError('umount2', loadFfi().koffi.errno(), '', `${what} at ${dir}`);
}
