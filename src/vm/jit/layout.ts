/**
 * The contract between the JIT's generated module and its JavaScript host:
 * import names, local indices and fault codes. Both sides read it from here.
 */

/**
 * Host functions, by their slot in the imported table `env.host`; a program
 * reaches them with `call_indirect` (type index = slot). Importing them as
 * functions would make V8 build a call wrapper per import per module, which
 * cost more than compiling a small program.
 */
export const enum Host {
  resolve = 0, // (ea i64, size i32, write i32, pc i32, depth i32) -> i64 (start | end << 32)
  helper = 1, // (id i32, pc i32, r1..r5 i64, budget f64, depth i32) -> i64 r0; writes budgetIO
  exhaust = 2, // (pc i32, remaining f64, depth i32, mayGoto i32) -> never returns
  fault = 3, // (code i32, pc i32) -> never returns
  pseudo = 4, // (src i32, imm i32, imm2 i32, pc i32) -> i64
  callx = 5, // (value i64, pc i32) -> i32 block, or -1 for a helper
  kfunc = 6, // (imm i32, off i32, pc i32, r1..r5 i64, budget f64, depth i32) -> i64 r0; writes budgetIO
}
export const HOST_FUNCTIONS = 7;

/** Functions the program module defines, by function index. */
export const enum Fn {
  refill = 0,
  bswap16 = 1,
  bswap32 = 2,
  bswap64 = 3,
  run = 4,
}

/** Imported globals, in import order. */
export const enum G {
  budgetIO = 0, // mut f64: budget handed across helper calls and out at exit
  frameEnd0 = 1, // i32: r10 of frame 0
  frameStride = 2, // i32: distance between frames
  cstack = 3, // i32: call-stack save area (40 bytes per frame)
  scratch = 4, // i32: register spill area (11 x 8 bytes)
  pktStart = 5, // mut i32: packet for LD_ABS / LD_IND
  pktLen = 6, // mut i32
}

/** Module-defined globals follow the imported ones: the region caches. */
export const G_CACHE = 7;
export const CACHE_GLOBALS = 10;

/** Codes of `fault(code, pc)`. */
export const enum FaultKind {
  ranOffEnd = 0,
  callDepth = 1,
}

/** Bytes per saved frame in the call-stack area: return block (i32, padded to 8) and r6-r9. */
export const CSTACK_FRAME = 40;

/** Locals of `run`: parameters first (r1..r5 as lo/hi i32 pairs, budget f64), then these. */
export const PARAMS = 11;
export const R0 = PARAMS; // r0..r10 are locals R0 .. R0 + 10 (i64)
export const L_BUDGET = R0 + 11; // i64
export const L_T0 = L_BUDGET + 1; // i64 scratch (effective address)
export const L_T1 = L_T0 + 1; // i64 scratch
export const L_XK = L_T1 + 1; // i64: size of the block being charged (for exhaustion)
export const L_RD = L_XK + 1; // i64 x5: read cache base, limits for sizes 1, 2, 4, 8
export const L_WR = L_RD + 5; // i64 x5: write cache
export const I64_LOCALS = L_WR + 5 - R0;
export const L_NEXT = L_WR + 5; // i32: next block
export const L_DEPTH = L_NEXT + 1; // i32
export const L_MAYGOTO = L_DEPTH + 1; // i32
export const L_XPC = L_MAYGOTO + 1; // i32: pc of the block being charged
export const L_TI = L_XPC + 1; // i32 scratch (address)
export const I32_LOCALS = 5;
