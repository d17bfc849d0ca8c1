// What the kernel-backed tests share: the "is bpf(2) usable here" gate and an
// fd count for leak checks.
import { readdirSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { probeKernel } from '../../src/kernel/index.js';

/**
 * True when the kernel's eBPF is usable; otherwise skips `t` with the reason
 * probeKernel gives and returns false (`if (!needKernel(t)) return;`).
 */
export function needKernel(t: TestContext): boolean {
  const p = probeKernel();
  if (!p.usable) {
    t.skip(`kernel eBPF not usable: ${p.reason}`);
    return false;
  }
  return true;
}

/** How many fds this process has open (entries of /proc/self/fd). */
export const openFds = (): number => readdirSync('/proc/self/fd').length;
