import { readFileSync } from 'node:fs';
import { TsbpfError } from '../errors.js';

const POSSIBLE = '/sys/devices/system/cpu/possible';
let cached: number | undefined;

/**
 * Counts the CPUs in a kernel CPU list such as `0-3,8,10-11`. Per-CPU map
 * values hold one slot per possible CPU, so this is their multiplier.
 */
export function parseCpuList(text: string): number {
  const s = text.trim();
  if (s === '') throw new TsbpfError('ECPUS', 'the CPU list is empty', { list: text });
  const seen = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new TsbpfError('ECPUS', `"${part}" is not a CPU number or range`, { list: text });
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 1 << 16) throw new TsbpfError('ECPUS', `"${part}" is not a valid CPU range`, { list: text });
    for (let c = lo; c <= hi; c++) seen.add(c);
  }
  return seen.size;
}

/** The number of possible CPUs (from `/sys/devices/system/cpu/possible`), read once. */
export function possibleCpus(): number {
  if (cached !== undefined) return cached;
  let text: string;
  try {
    text = readFileSync(POSSIBLE, 'utf8');
  } catch (e) {
    throw new TsbpfError('ECPUS', `cannot read ${POSSIBLE}: ${(e as Error).message}`, { path: POSSIBLE });
  }
  cached = parseCpuList(text);
  return cached;
}
