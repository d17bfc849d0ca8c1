/**
 * bpf_get_current_pid_tgid, bpf_get_current_uid_gid, bpf_get_current_comm:
 * the current task comes from `host.task`; without one they return -EINVAL
 * (and get_current_comm zeroes its buffer), as the kernel does with no task.
 */
import { taskOf } from './host.js';
import { Errno, err, helper, pointer, u32 } from './memory.js';
import type { HelperDef } from './registry.js';

/** TASK_COMM_LEN: the kernel keeps 15 bytes of the name and a NUL. */
export const TASK_COMM_LEN = 16;

const id32 = (v: number): bigint => BigInt(v >>> 0);

export const getCurrentPidTgid = helper(14, 'get_current_pid_tgid', (env) => {
  const t = taskOf(env, 'get_current_pid_tgid');
  return t === null ? err(Errno.EINVAL) : (id32(t.tgid) << 32n) | id32(t.pid);
});

export const getCurrentUidGid = helper(15, 'get_current_uid_gid', (env) => {
  const t = taskOf(env, 'get_current_uid_gid');
  return t === null ? err(Errno.EINVAL) : (id32(t.gid) << 32n) | id32(t.uid);
});

const encoder = new TextEncoder();

export const getCurrentComm = helper(16, 'get_current_comm', (env, buf, size) => {
  const n = u32(size);
  const at = pointer(env, 'get_current_comm', 'buf', buf, n, true);
  const t = taskOf(env, 'get_current_comm');
  const u8 = env.space.u8;
  u8.fill(0, at, at + n);
  if (t === null) return err(Errno.EINVAL);
  // strscpy_pad: at most size - 1 bytes of the name, NUL-padded.
  const comm = encoder.encode(t.comm).subarray(0, TASK_COMM_LEN - 1);
  if (n > 0) u8.set(comm.subarray(0, n - 1), at);
  return 0n;
});

/** The current-task helpers. */
export const taskHelpers = (): HelperDef[] => [getCurrentPidTgid, getCurrentUidGid, getCurrentComm];
