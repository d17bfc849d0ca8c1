/**
 * Helpers by the kernel's numbering. The calling convention and the registry
 * live in `./helpers/registry.ts`, the helpers themselves in `./helpers/`,
 * one file per family.
 */
import { commonHelpers } from './helpers/index.js';
import type { HelperRegistry } from './helpers/registry.js';

export { HelperRegistry } from './helpers/registry.js';
export type { HelperDef, HelperEnv, HelperFn, RunHost } from './helpers/registry.js';

/**
 * The helpers every VM starts with: every helper that does not depend on a
 * packet (`commonHelpers()`). Helpers that need a host facility the run does
 * not have (maps, an output stream, a task) fault with EHELPER saying so.
 */
export function defaultHelpers(): HelperRegistry {
  return commonHelpers();
}
