/**
 * bpf_probe_read{,_user,_kernel}{,_str} and bpf_copy_from_user: copies from
 * any address into a checked destination. The vm has one address space, so
 * "user" and "kernel" memory are the same: whatever regions it has. A source
 * that is not readable gives -EFAULT and a zero-filled destination, as the
 * kernel does.
 */
import { Errno, err, helper, pointer, probeBytes, probeString, ret, u32 } from './memory.js';
import type { HelperDef, HelperEnv } from './registry.js';

function read(env: HelperEnv, name: string, dst: bigint, size: bigint, src: bigint): bigint {
  const n = u32(size);
  const at = pointer(env, name, 'dst', dst, n, true);
  if (n === 0) return 0n;
  const bytes = probeBytes(env, src, n);
  if (bytes === null) {
    env.space.u8.fill(0, at, at + n);
    return err(Errno.EFAULT);
  }
  env.space.u8.set(bytes, at);
  return 0n;
}

function readStr(env: HelperEnv, name: string, dst: bigint, size: bigint, src: bigint): bigint {
  const n = u32(size);
  const at = pointer(env, name, 'dst', dst, n, true);
  if (n === 0) return 0n;
  const s = probeString(env, src, n);
  if (s === null) {
    env.space.u8.fill(0, at, at + n);
    return err(Errno.EFAULT);
  }
  // Only the string and its NUL are written; the rest of dst keeps its bytes.
  env.space.u8.set(s, at);
  env.space.u8[at + s.length] = 0;
  return ret(s.length + 1);
}

const reader = (id: number, name: string) => helper(id, name, (env, dst, size, src) => read(env, name, dst, size, src));
const strReader = (id: number, name: string) => helper(id, name, (env, dst, size, src) => readStr(env, name, dst, size, src));

export const probeRead = reader(4, 'probe_read');
export const probeReadStr = strReader(45, 'probe_read_str');
export const probeReadUser = reader(112, 'probe_read_user');
export const probeReadKernel = reader(113, 'probe_read_kernel');
export const probeReadUserStr = strReader(114, 'probe_read_user_str');
export const probeReadKernelStr = strReader(115, 'probe_read_kernel_str');
export const copyFromUser = reader(148, 'copy_from_user');

/** The probe-read helpers. */
export const probeHelpers = (): HelperDef[] => [
  probeRead, probeReadStr, probeReadUser, probeReadKernel, probeReadUserStr, probeReadKernelStr, copyFromUser,
];
