/** bpf_get_prandom_u32, bpf_get_smp_processor_id, bpf_get_numa_node_id. */
import { hostOf, missing, numberField } from './host.js';
import { helper } from './memory.js';
import type { HelperDef } from './registry.js';

export const getPrandomU32 = helper(7, 'get_prandom_u32', (env) => {
  const r = hostOf(env).random;
  if (r === undefined) return BigInt((Math.random() * 0x100000000) >>> 0);
  if (typeof r !== 'function') throw missing(env, 'get_prandom_u32', 'random', 'a source of random u32 values (() => number)');
  return BigInt(r() >>> 0);
});

export const getSmpProcessorId = helper(8, 'get_smp_processor_id', (env) => BigInt(env.host.cpu >>> 0));

export const getNumaNodeId = helper(42, 'get_numa_node_id', (env) => BigInt(numberField(env, 'get_numa_node_id', 'numaNode', 0)));

/** The helpers that read the run's CPU and random state. */
export const miscHelpers = (): HelperDef[] => [getPrandomU32, getSmpProcessorId, getNumaNodeId];
