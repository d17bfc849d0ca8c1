/**
 * The kernel's BPF helpers that do not depend on a packet, by their kernel
 * ids, one file per family. `commonHelpers()` registers all of them; the
 * families are exported for hosts that want fewer.
 */
import { HelperRegistry } from './registry.js';
import { callbackHelpers } from './callbacks.js';
import { csumHelpers } from './csum.js';
import { mapHelpers } from './maps.js';
import { miscHelpers } from './misc.js';
import { printkHelpers } from './printk.js';
import { ringbufHelpers } from './ringbuf.js';
import { probeHelpers } from './probe.js';
import { stringHelpers } from './strings.js';
import { tailCallHelpers } from './tail-call.js';
import { taskHelpers } from './task.js';
import { timeHelpers } from './time.js';

export { HelperRegistry } from './registry.js';
export type { HelperDef, HelperEnv, HelperFn, RunHost } from './registry.js';
export type { HelperHost, TaskInfo, SeqFile } from './host.js';
// The toolkit other helper families (packet helpers, hooks) build on.
export { helperError, hostOf, missing } from './host.js';
export {
  Errno, accessible, badPointer, err, helper, pointer, probeBytes, probeString, readArg, readCString, ret, s32, u32, writeArg, writeU64,
} from './memory.js';
export { mapCall } from './maps.js';
export { bprintf, MAX_BPRINTF_BUF, MAX_BPRINTF_VARARGS, type Formatted, type FormatResult } from './format.js';
export { csumDiff, csumPartial } from './csum.js';
export { parseInteger } from './strings.js';
export { MAX_LOOPS, callbackHelpers } from './callbacks.js';
export { mapArg, mapHelpers } from './maps.js';
export { MAX_TAIL_CALL_CNT, tailCallHelpers, type TailCall } from './tail-call.js';
export { TASK_COMM_LEN, taskHelpers } from './task.js';
export { DEFAULT_HZ, timeHelpers } from './time.js';
export { csumHelpers, miscHelpers, printkHelpers, probeHelpers, ringbufHelpers, stringHelpers };

/** Every helper that does not depend on a packet. */
export function commonHelpers(): HelperRegistry {
  return new HelperRegistry()
    .registerAll(timeHelpers())
    .registerAll(miscHelpers())
    .registerAll(taskHelpers())
    .registerAll(probeHelpers())
    .registerAll(stringHelpers())
    .registerAll(printkHelpers())
    .registerAll(csumHelpers())
    .registerAll(mapHelpers())
    .registerAll(ringbufHelpers())
    .registerAll(tailCallHelpers())
    .registerAll(callbackHelpers());
}
