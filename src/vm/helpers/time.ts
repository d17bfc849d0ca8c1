/**
 * Clocks: bpf_ktime_get_ns (CLOCK_MONOTONIC), _boot_ns (CLOCK_BOOTTIME),
 * _coarse_ns (monotonic at tick granularity), _tai_ns (CLOCK_TAI) and
 * bpf_jiffies64. The host may supply its own clocks (`host.clock`,
 * `host.realtime`, `host.suspendedNs`, `host.hz`) for reproducible runs.
 */
import { clockField, hostOf, numberField } from './host.js';
import { helper } from './memory.js';
import type { HelperDef, HelperEnv } from './registry.js';

const perf = globalThis.performance;
/** Nanoseconds since this module loaded, never going backwards. */
const monotonicDefault = (): bigint => BigInt(Math.round(perf.now() * 1e6));
const realtimeDefault = (): bigint => BigInt(Math.round((perf.timeOrigin + perf.now()) * 1e6));

export const DEFAULT_HZ = 250;

const monotonic = (env: HelperEnv, name: string): bigint => clockField(env, name, 'clock', monotonicDefault);
const hz = (env: HelperEnv, name: string): number => {
  const v = numberField(env, name, 'hz', DEFAULT_HZ);
  return v > 0 ? v : DEFAULT_HZ;
};

export const ktimeGetNs = helper(5, 'ktime_get_ns', (env) => monotonic(env, 'ktime_get_ns'));

export const ktimeGetBootNs = helper(125, 'ktime_get_boot_ns', (env) => {
  const s = hostOf(env).suspendedNs;
  return BigInt.asUintN(64, monotonic(env, 'ktime_get_boot_ns') + (typeof s === 'bigint' ? s : 0n));
});

export const ktimeGetCoarseNs = helper(160, 'ktime_get_coarse_ns', (env) => {
  const tick = 1_000_000_000n / BigInt(hz(env, 'ktime_get_coarse_ns'));
  const t = monotonic(env, 'ktime_get_coarse_ns');
  return t - (t % tick);
});

export const ktimeGetTaiNs = helper(208, 'ktime_get_tai_ns', (env) => clockField(env, 'ktime_get_tai_ns', 'realtime', realtimeDefault));

export const jiffies64 = helper(118, 'jiffies64', (env) => {
  const rate = BigInt(hz(env, 'jiffies64'));
  // The kernel starts jiffies 5 minutes before the 32-bit wrap (INITIAL_JIFFIES).
  const initial = 2n ** 32n - 300n * rate;
  return BigInt.asUintN(64, initial + (monotonic(env, 'jiffies64') * rate) / 1_000_000_000n);
});

/** The clock helpers. */
export const timeHelpers = (): HelperDef[] => [ktimeGetNs, jiffies64, ktimeGetBootNs, ktimeGetCoarseNs, ktimeGetTaiNs];
