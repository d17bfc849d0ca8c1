/**
 * Compiles a prepared program to one WebAssembly module. The module imports
 * the VM's memory and a few host functions (region lookup, helpers, faults),
 * and exports `run`.
 */
import type { PreparedProgram } from '../program.js';
import { findBlocks, type Blocks } from './blocks.js';
import { Codegen, type TrustedAccesses } from './codegen.js';
import { CACHE_GLOBALS, Fn, Host, HOST_FUNCTIONS, I32_LOCALS, I64_LOCALS } from './layout.js';
import { Bytes, T, W } from './wasm.js';

export interface CompiledModule {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly blocks: Blocks;
}

export const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const R5 = [T.i64, T.i64, T.i64, T.i64, T.i64];

/** Function types, by index. */
export const TYPES: Array<[number[], number[]]> = [
  /* 0 resolve */ [[T.i64, T.i32, T.i32, T.i32, T.i32], [T.i64]],
  /* 1 helper  */ [[T.i32, T.i32, ...R5, T.f64, T.i32], [T.i64]],
  /* 2 exhaust */ [[T.i32, T.f64, T.i32, T.i32], []],
  /* 3 fault   */ [[T.i32, T.i32], []],
  /* 4 pseudo  */ [[T.i32, T.i32, T.i32, T.i32], [T.i64]],
  /* 5 callx   */ [[T.i64, T.i32], [T.i32]],
  /* 6 kfunc   */ [[T.i32, T.i32, T.i32, ...R5, T.f64, T.i32], [T.i64]],
  /* 7 refill  */ [[T.i64, T.i32, T.i32, T.i32, T.i32], [T.i64, T.i64, T.i64, T.i64, T.i64]],
  /* 8 bswap   */ [[T.i64], [T.i64]],
  /* 9 run     */ [[T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.f64], [T.i64]],
];
export const IMPORTS: Array<[string, number]> = [
  ['resolve', 0], ['helper', 1], ['exhaust', 2], ['fault', 3], ['pseudo', 4], ['callx', 5], ['kfunc', 6],
];
/** Imported globals: name, type, mutable. */
const GLOBALS: Array<[string, number, boolean]> = [
  ['budgetIO', T.f64, true], ['frameEnd0', T.i32, false], ['frameStride', T.i32, false],
  ['cstack', T.i32, false], ['scratch', T.i32, false], ['pktStart', T.i32, true], ['pktLen', T.i32, true],
];

export function compileModule(p: PreparedProgram, trusted: TrustedAccesses | null = null): CompiledModule {
  const blocks = findBlocks(p);
  const m = new Bytes().bytes(MAGIC);

  const types = new Bytes().u32(TYPES.length);
  for (const [params, results] of TYPES) {
    types.byte(0x60).u32(params.length).bytes(params).u32(results.length).bytes(results);
  }
  m.section(1, types);

  const imports = new Bytes().u32(2 + GLOBALS.length);
  imports.str('env').str('memory').byte(0x02).byte(0x00).u32(1); // memory, min 1 page, no max
  imports.str('env').str('host').byte(0x01).byte(0x70).byte(0x00).u32(HOST_FUNCTIONS); // funcref table
  for (const [name, type, mut] of GLOBALS) imports.str('env').str(name).byte(0x03).byte(type).byte(mut ? 1 : 0);
  m.section(2, imports);

  // refill, bswap16, bswap32, bswap64, run
  m.section(3, new Bytes().u32(5).u32(7).u32(8).u32(8).u32(8).u32(9));
  // Module globals: the region caches (read base + 4 limits, write base + 4
  // limits), kept across runs so a run starts with the regions it last used.
  const globals = new Bytes().u32(CACHE_GLOBALS);
  for (let k = 0; k < CACHE_GLOBALS; k++) globals.byte(T.i64).byte(1).byte(W.i64_const).i32(0).byte(W.end);
  m.section(6, globals);
  m.section(7, new Bytes().u32(1).str('run').byte(0x00).u32(Fn.run));

  const code = new Bytes().u32(5);
  code.sized(refillBody());
  code.sized(bswapBody(16));
  code.sized(bswapBody(32));
  code.sized(bswapBody(64));
  const run = new Bytes().u32(2).u32(I64_LOCALS).byte(T.i64).u32(I32_LOCALS).byte(T.i32);
  const body = new Codegen(p, blocks, trusted).emit();
  run.bytes(body.buf.subarray(0, body.len));
  code.sized(run);
  m.section(10, code);
  return { bytes: m.result(), blocks };
}

/**
 * refill(ea, size, write, pc, depth) -> (base, lim1, lim2, lim4, lim8): asks
 * the host for the region holding the access (it faults when there is none)
 * and turns its bounds into per-size limits: an access of size S at `a` is in
 * the region when (a - base) <u limS, with limS = span - S + 1, or 0 when the
 * region is smaller than S.
 */
function refillBody(): Bytes {
  const b = new Bytes().u32(2).u32(1).byte(T.i64).u32(1).byte(T.i64); // locals 5: packed, 6: span
  for (let k = 0; k < 5; k++) b.byte(W.local_get).u32(k);
  b.byte(W.i32_const).i32(Host.resolve).byte(W.call_indirect).u32(Host.resolve).u32(0).byte(W.local_tee).u32(5);
  b.byte(W.i64_const).i32(32).byte(W.i64_shr_u);
  b.byte(W.local_get).u32(5).byte(W.i64_const).i64(0xffffffffn).byte(W.i64_and).byte(W.i64_sub).byte(W.local_set).u32(6);
  b.byte(W.local_get).u32(5).byte(W.i64_const).i64(0xffffffffn).byte(W.i64_and); // base
  for (const s of [1, 2, 4, 8]) {
    // select(span - s + 1, 0, span >=u s)
    b.byte(W.local_get).u32(6).byte(W.i64_const).i32(s - 1).byte(W.i64_sub);
    b.byte(W.i64_const).i32(0);
    b.byte(W.local_get).u32(6).byte(W.i64_const).i32(s).byte(W.i64_ge_u);
    b.byte(W.select);
  }
  return b.byte(W.end);
}

/** Byte swap of the low 16, 32 or all 64 bits; the result is zero-extended. */
function bswapBody(width: 16 | 32 | 64): Bytes {
  const b = new Bytes().u32(0);
  const get = (): Bytes => b.byte(W.local_get).u32(0);
  if (width === 16) {
    get().byte(W.i64_const).i32(0xff).byte(W.i64_and).byte(W.i64_const).i32(8).byte(W.i64_shl);
    get().byte(W.i64_const).i32(8).byte(W.i64_shr_u).byte(W.i64_const).i32(0xff).byte(W.i64_and);
    b.byte(W.i64_or);
  } else if (width === 32) {
    // On the i32: rotl(v & 0xff00ff00, 8) | rotr(v & 0x00ff00ff, 8)
    get().byte(W.i32_wrap_i64).byte(W.i32_const).i32(0xff00ff00 | 0).byte(W.i32_and).byte(W.i32_const).i32(8).byte(W.i32_rotl);
    get().byte(W.i32_wrap_i64).byte(W.i32_const).i32(0x00ff00ff).byte(W.i32_and).byte(W.i32_const).i32(8).byte(W.i32_rotr);
    b.byte(W.i32_or).byte(W.i64_extend_i32_u);
  } else {
    // Swap bytes within 16-bit lanes, then 16-bit lanes within 32, then the halves.
    get().byte(W.i64_const).i64(0x00ff00ff00ff00ffn).byte(W.i64_and).byte(W.i64_const).i32(8).byte(W.i64_shl);
    get().byte(W.i64_const).i32(8).byte(W.i64_shr_u).byte(W.i64_const).i64(0x00ff00ff00ff00ffn).byte(W.i64_and);
    b.byte(W.i64_or).byte(W.local_set).u32(0);
    get().byte(W.i64_const).i64(0x0000ffff0000ffffn).byte(W.i64_and).byte(W.i64_const).i32(16).byte(W.i64_shl);
    get().byte(W.i64_const).i32(16).byte(W.i64_shr_u).byte(W.i64_const).i64(0x0000ffff0000ffffn).byte(W.i64_and);
    b.byte(W.i64_or).byte(W.i64_const).i32(32).byte(W.i64_rotl);
  }
  return b.byte(W.end);
}
