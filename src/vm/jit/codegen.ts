/**
 * Emits the body of `run`: one WebAssembly function holding every basic block
 * as a case of a dispatch loop (`loop` + `br_table`). Registers are i64
 * locals. Memory accesses are checked against two cached regions (one for
 * reads, one for writes) and fall back to the host's region lookup on a miss.
 */
import * as O from '../../isa/opcodes.js';
import { CODE_ADDR_HI, MAX_FRAMES, MAY_GOTO_LIMIT, STACK_SIZE } from '../interpreter.js';
import type { PreparedProgram } from '../program.js';
import type { Blocks } from './blocks.js';
import {
  CSTACK_FRAME, FaultKind, Fn, G, G_CACHE, Host, L_BUDGET, L_DEPTH, L_MAYGOTO, L_NEXT, L_RD, L_T0, L_T1, L_TI, L_WR,
  L_XK, L_XPC, R0,
} from './layout.js';
import { Bytes, T, W } from './wasm.js';

const R = (k: number): number => R0 + k;
const LIMIT_SLOT: Record<number, number> = { 1: 1, 2: 2, 4: 3, 8: 4 };

/** Which memory accesses a verifier proved safe; only these lose their checks. */
export interface TrustedAccesses {
  readonly safeSlots: ReadonlySet<number>;
}

export class Codegen {
  readonly b = new Bytes();
  /** Constructs enclosing the current code inside its block (ifs). */
  private nest = 0;
  /** Label depth from the current block's code to the dispatch loop. */
  private toDispatch = 0;
  /** The block being emitted. */
  private cur = 0;

  constructor(
    private readonly p: PreparedProgram,
    private readonly blocks: Blocks,
    private readonly trusted: TrustedAccesses | null,
  ) {}

  // ---- small emitters ----
  private op(a: number, b = -1, c = -1): this {
    this.b.byte(a);
    if (b >= 0) this.b.byte(b);
    if (c >= 0) this.b.byte(c);
    return this;
  }
  private get(l: number): this { return this.op(W.local_get).u(l); }
  private set(l: number): this { return this.op(W.local_set).u(l); }
  private tee(l: number): this { return this.op(W.local_tee).u(l); }
  private u(v: number): this { this.b.u32(v); return this; }
  private i32c(v: number): this { this.op(W.i32_const); this.b.i32(v); return this; }
  private i64c(v: number): this { this.op(W.i64_const); this.b.i32(v); return this; } // sign-extended 32-bit value
  private i64big(v: bigint): this { this.op(W.i64_const); this.b.i64(v); return this; }
  private gget(g: number): this { return this.op(W.global_get).u(g); }
  private mem(opcode: number): this { return this.op(opcode, 0, 0); } // align 0, offset 0
  private if(type: number = T.void): this { this.nest++; return this.op(W.if, type); }
  private else(): this { return this.op(W.else); }
  private end(): this { this.nest--; return this.op(W.end); }
  private br(label: number): this { return this.op(W.br).u(label); }
  private brDispatch(): this { return this.br(this.toDispatch + this.nest); }
  private brDone(): this { return this.br(this.toDispatch + this.nest + 1); }
  private brExhausted(): this { return this.br(this.toDispatch + this.nest + 2); }
  /**
   * Jumps to a block. A later block's code starts right after the end of its
   * label, which encloses the current code, so a forward jump is a plain `br`;
   * only a backward jump goes through the dispatch loop.
   */
  private gotoBlock(block: number): this {
    if (block > this.cur) return this.br(block - this.cur - 1 + this.nest);
    return this.i32c(block).set(L_NEXT).brDispatch();
  }
  /** Calls a host function through the imported table (its type index is its slot). */
  private host(fn: Host): this { return this.i32c(fn).op(W.call_indirect).u(fn).u(0); }

  /** The whole function body (locals are declared by the caller). */
  emit(): Bytes {
    const n = this.blocks.starts.length;
    this.prologue();
    this.op(W.block, T.void); // $exhausted
    this.op(W.block, T.void); // $done
    this.op(W.loop, T.void); // $dispatch
    for (let k = 0; k < n; k++) this.op(W.block, T.void);
    this.get(L_NEXT).op(W.br_table).u(n);
    for (let k = 0; k < n; k++) this.u(k);
    this.u(n - 1); // default: the sentinel (never taken: next is always a block id)
    for (let k = 0; k < n; k++) {
      this.op(W.end);
      this.toDispatch = n - 1 - k;
      this.nest = 0;
      this.cur = k;
      this.emitBlock(k);
    }
    this.op(W.end); // loop
    this.op(W.unreachable);
    this.op(W.end); // $done: r0 is in its local
    this.saveCaches();
    this.get(L_BUDGET).op(W.f64_convert_i64_s, W.global_set).u(G.budgetIO);
    this.get(R(0)).op(W.return);
    this.op(W.end); // $exhausted: spill the registers and let the interpreter find the exact stop
    for (let k = 0; k <= 10; k++) this.gget(G.scratch).get(R(k)).op(W.i64_store, 3).u(k * 8);
    this.get(L_XPC).get(L_BUDGET).get(L_XK).op(W.i64_add, W.f64_convert_i64_s).get(L_DEPTH).get(L_MAYGOTO);
    this.host(Host.exhaust);
    this.op(W.unreachable);
    this.op(W.end); // function
    return this.b;
  }

  private prologue(): void {
    for (let k = 1; k <= 5; k++) {
      // r_k = lo | hi << 32 from two i32 parameters.
      this.op(W.local_get).u((k - 1) * 2).op(W.i64_extend_i32_u);
      this.op(W.local_get).u((k - 1) * 2 + 1).op(W.i64_extend_i32_u).i64c(32).op(W.i64_shl, W.i64_or);
      this.set(R(k));
    }
    this.op(W.local_get).u(10).op(W.i64_trunc_f64_s).set(L_BUDGET);
    this.gget(G.frameEnd0).op(W.i64_extend_i32_u).set(R(10));
    this.i32c(MAY_GOTO_LIMIT).set(L_MAYGOTO);
    for (let k = 0; k < 5; k++) { this.gget(G_CACHE + k).set(L_RD + k); this.gget(G_CACHE + 5 + k).set(L_WR + k); }
    this.frameFill();
  }

  /** Keeps the region caches for the next run; a deeper frame's region is not kept. */
  private saveCaches(): void {
    this.get(L_DEPTH).if();
    this.invalidateCaches();
    this.end();
    for (let k = 0; k < 5; k++) {
      this.get(L_RD + k).op(W.global_set).u(G_CACHE + k);
      this.get(L_WR + k).op(W.global_set).u(G_CACHE + 5 + k);
    }
  }

  private invalidateCaches(): void {
    for (let k = 1; k <= 4; k++) { this.i64c(0).set(L_RD + k); this.i64c(0).set(L_WR + k); }
  }

  /** Zeroes the frame r10 points into. */
  private frameFill(): void {
    this.get(R(10)).op(W.i32_wrap_i64).i32c(STACK_SIZE).op(W.i32_sub).i32c(0).i32c(STACK_SIZE);
    this.op(W.prefix_fc).u(11).op(0); // memory.fill
  }

  private emitBlock(k: number): void {
    const p = this.p;
    const start = this.blocks.starts[k]!;
    const size = this.blocks.sizes[k]!;
    // Charge the block; when the budget cannot cover it, hand over to the interpreter.
    const charge = start === p.slots ? 1 : size;
    this.get(L_BUDGET).i64c(charge).op(W.i64_sub).tee(L_BUDGET).i64c(0).op(W.i64_lt_s);
    this.if().i32c(start).set(L_XPC).i64c(charge).set(L_XK).brExhausted().end();
    if (start === p.slots) {
      this.i32c(FaultKind.ranOffEnd).i32c(start).host(Host.fault).op(W.unreachable);
      return;
    }
    let pc = start;
    for (let n = 0; n < size; n++) {
      this.insn(pc, k);
      pc += p.op[pc] === O.OP_LDDW ? 2 : 1;
    }
  }

  private insn(pc: number, block: number): void {
    const o = this.p.op[pc]!;
    switch (O.cls(o)) {
      case O.CLS_ALU64: case O.CLS_ALU: this.alu(pc); return;
      case O.CLS_LDX: this.ldx(pc); return;
      case O.CLS_ST: case O.CLS_STX: this.store(pc); return;
      case O.CLS_LD: this.ld(pc); return;
      default: this.jmp(pc, block);
    }
  }

  // ---- ALU ----
  private alu(pc: number): void {
    const p = this.p, o = p.op[pc]!, d = p.dst[pc]!, s = p.src[pc]!, imm = p.imm[pc]!, off = p.off[pc]!;
    const code = O.aluOp(o), x = O.srcBit(o) === O.SRC_X, is64 = O.cls(o) === O.CLS_ALU64;
    if (code === O.ALU_END) return this.endian(o, d, imm);
    if (is64) {
      const src = (): this => (x ? this.get(R(s)) : this.i64c(imm));
      switch (code) {
        case O.ALU_MOV:
          if (!x) this.i64c(imm);
          else if (off === 8) this.get(R(s)).op(W.i64_extend8_s);
          else if (off === 16) this.get(R(s)).op(W.i64_extend16_s);
          else if (off === 32) this.get(R(s)).op(W.i64_extend32_s);
          else if (off === 0) this.get(R(s));
          else this.get(R(s)).i64big(0xffffffffn).op(W.i64_and); // addr_space_cast, no arena
          break;
        case O.ALU_NEG: this.i64c(0).get(R(d)).op(W.i64_sub); break;
        case O.ALU_DIV: case O.ALU_MOD: this.divmod64(code === O.ALU_DIV, off === 1, d, s, x, imm); break;
        default: {
          const w = ALU64[code >> 4]!;
          this.get(R(d));
          src();
          this.op(w);
        }
      }
      this.set(R(d));
      return;
    }
    const src32 = (): this => (x ? this.get(R(s)).op(W.i32_wrap_i64) : this.i32c(imm));
    switch (code) {
      case O.ALU_MOV:
        src32();
        if (x && off === 8) this.op(W.i32_extend8_s);
        else if (x && off === 16) this.op(W.i32_extend16_s);
        break;
      case O.ALU_NEG: this.i32c(0).get(R(d)).op(W.i32_wrap_i64, W.i32_sub); break;
      case O.ALU_DIV: case O.ALU_MOD: this.divmod32(code === O.ALU_DIV, off === 1, d, s, x, imm); break;
      default: {
        const w = ALU32[code >> 4]!;
        this.get(R(d)).op(W.i32_wrap_i64);
        src32();
        this.op(w);
      }
    }
    this.op(W.i64_extend_i32_u).set(R(d));
  }

  /** 64-bit div/mod with RFC 9669 results for zero and (signed) -1 divisors. */
  private divmod64(div: boolean, signed: boolean, d: number, s: number, x: boolean, imm: number): void {
    if (!x) {
      if (imm === 0) { if (div) this.i64c(0); else this.get(R(d)); return; }
      if (signed && imm === -1) { if (div) this.i64c(0).get(R(d)).op(W.i64_sub); else this.i64c(0); return; }
      this.get(R(d)).i64c(imm).op(div ? (signed ? W.i64_div_s : W.i64_div_u) : (signed ? W.i64_rem_s : W.i64_rem_u));
      return;
    }
    this.get(R(s)).op(W.i64_eqz).if(T.i64);
    if (div) this.i64c(0); else this.get(R(d));
    this.else();
    if (signed) {
      this.get(R(s)).i64c(-1).op(W.i64_eq).if(T.i64);
      if (div) this.i64c(0).get(R(d)).op(W.i64_sub); else this.i64c(0);
      this.else().get(R(d)).get(R(s)).op(div ? W.i64_div_s : W.i64_rem_s).end();
    } else {
      this.get(R(d)).get(R(s)).op(div ? W.i64_div_u : W.i64_rem_u);
    }
    this.end();
  }

  /** 32-bit div/mod; leaves an i32 on the stack. */
  private divmod32(div: boolean, signed: boolean, d: number, s: number, x: boolean, imm: number): void {
    const dst = (): this => this.get(R(d)).op(W.i32_wrap_i64);
    if (!x) {
      if (imm === 0) { if (div) this.i32c(0); else dst(); return; }
      if (signed && imm === -1) { if (div) this.i32c(0).get(R(d)).op(W.i32_wrap_i64, W.i32_sub); else this.i32c(0); return; }
      dst().i32c(imm).op(div ? (signed ? W.i32_div_s : W.i32_div_u) : (signed ? W.i32_rem_s : W.i32_rem_u));
      return;
    }
    const src = (): this => this.get(R(s)).op(W.i32_wrap_i64);
    src().op(W.i32_eqz).if(T.i32);
    if (div) this.i32c(0); else dst();
    this.else();
    if (signed) {
      src().i32c(-1).op(W.i32_eq).if(T.i32);
      if (div) this.i32c(0).get(R(d)).op(W.i32_wrap_i64, W.i32_sub); else this.i32c(0);
      this.else();
      dst(); src(); this.op(div ? W.i32_div_s : W.i32_rem_s).end();
    } else {
      dst(); src(); this.op(div ? W.i32_div_u : W.i32_rem_u);
    }
    this.end();
  }

  private endian(o: number, d: number, width: number): void {
    const swap = o !== (O.CLS_ALU | O.ALU_END | O.SRC_K); // be or bswap; le is a truncation
    this.get(R(d));
    if (swap) this.op(W.call).u(width === 16 ? Fn.bswap16 : width === 32 ? Fn.bswap32 : Fn.bswap64);
    else if (width === 16) this.i64c(0xffff).op(W.i64_and);
    else if (width === 32) this.i64big(0xffffffffn).op(W.i64_and);
    this.set(R(d));
  }

  // ---- memory ----
  /**
   * Pushes the checked i32 address of r`reg` + `off` for an access of `size`
   * bytes; faults (through the host) when no region holds it.
   */
  private address(reg: number, off: number, size: number, write: boolean, pc: number): void {
    this.get(R(reg));
    if (off !== 0) this.i64c(off).op(W.i64_add);
    // r10 is read-only and always the top of the live frame, so an access at a
    // constant offset inside the frame needs no check; nor does one a verifier
    // proved safe.
    const inFrame = reg === 10 && off >= -STACK_SIZE && off + size <= 0;
    if (inFrame || this.trusted?.safeSlots.has(pc)) { this.op(W.i32_wrap_i64); return; }
    const c = write ? L_WR : L_RD;
    this.tee(L_T0).get(c).op(W.i64_sub).get(c + LIMIT_SLOT[size]!).op(W.i64_lt_u, W.i32_eqz);
    this.if();
    this.get(L_T0).i32c(size).i32c(write ? 1 : 0).i32c(pc).get(L_DEPTH).op(W.call).u(Fn.refill);
    for (let k = 4; k >= 0; k--) this.set(c + k);
    this.end();
    this.get(L_T0).op(W.i32_wrap_i64);
  }

  private ldx(pc: number): void {
    const p = this.p, o = p.op[pc]!, size = O.sizeBytes(O.memSize(o));
    const sx = O.memMode(o) === O.MODE_MEMSX;
    this.address(p.src[pc]!, p.off[pc]!, size, false, pc);
    this.mem(loadOp(size, sx)).set(R(p.dst[pc]!));
  }

  private store(pc: number): void {
    const p = this.p, o = p.op[pc]!, size = O.sizeBytes(O.memSize(o));
    if (O.memMode(o) === O.MODE_ATOMIC) return this.atomic(pc);
    this.address(p.dst[pc]!, p.off[pc]!, size, true, pc);
    if (O.cls(o) === O.CLS_ST) this.i64c(p.imm[pc]!); else this.get(R(p.src[pc]!));
    this.mem(storeOp(size));
  }

  private atomic(pc: number): void {
    const p = this.p, o = p.op[pc]!, size = O.sizeBytes(O.memSize(o));
    const d = p.dst[pc]!, s = p.src[pc]!, off = p.off[pc]!, imm = p.imm[pc]!;
    if (imm === O.ATOMIC_LOAD_ACQ) {
      this.address(s, off, size, false, pc);
      this.mem(loadOp(size, false)).set(R(d));
      return;
    }
    if (imm === O.ATOMIC_STORE_REL) {
      this.address(d, off, size, true, pc);
      this.get(R(s)).mem(storeOp(size));
      return;
    }
    const is64 = size === 8;
    this.address(d, off, size, true, pc);
    this.tee(L_TI).mem(is64 ? W.i64_load : W.i64_load32_u).set(L_T1); // old value
    const rmw = imm & ~O.ATOMIC_FETCH;
    if (imm === O.ATOMIC_CMPXCHG) {
      // Store src when the old value equals r0 (its low half for 32 bits); r0 gets the old value.
      this.get(L_T1).get(R(0));
      if (!is64) this.i64big(0xffffffffn).op(W.i64_and);
      this.op(W.i64_eq).if().get(L_TI).get(R(s)).mem(storeOp(size)).end();
      this.get(L_T1).set(R(0));
      return;
    }
    this.get(L_TI);
    if (rmw === (O.ATOMIC_XCHG & ~O.ATOMIC_FETCH)) this.get(R(s));
    else {
      this.get(L_T1).get(R(s));
      this.op(ATOMIC_OPS[rmw]!);
    }
    this.mem(storeOp(size));
    if (imm & O.ATOMIC_FETCH) this.get(L_T1).set(R(s));
  }

  private ld(pc: number): void {
    const p = this.p, o = p.op[pc]!, d = p.dst[pc]!, src = p.src[pc]!, imm = p.imm[pc]!;
    if (o === O.OP_LDDW) {
      if (src === O.PSEUDO_IMM64) this.i64big((BigInt(p.imm[pc + 1]!) << 32n) | BigInt(imm >>> 0));
      else if (src === O.PSEUDO_FUNC) this.i64big((BigInt(CODE_ADDR_HI) << 32n) | BigInt((pc + 1 + imm) * 8));
      else this.i32c(src).i32c(imm).i32c(p.imm[pc + 1]!).i32c(pc).host(Host.pseudo);
      this.set(R(d));
      return;
    }
    // LD_ABS / LD_IND: a network-order load from the packet; out of range ends the run with r0 = 0.
    const size = O.sizeBytes(O.memSize(o));
    if (O.memMode(o) === O.MODE_IND) this.get(R(src)).op(W.i32_wrap_i64).i32c(imm).op(W.i32_add);
    else this.i32c(imm);
    this.op(W.local_tee).u(L_TI).i32c(0).op(W.i32_lt_s);
    this.get(L_TI).gget(G.pktLen).i32c(size).op(W.i32_sub).op(W.i32_gt_s).op(W.i32_or);
    this.if().i64c(0).set(R(0)).brDone().end();
    this.gget(G.pktStart).get(L_TI).op(W.i32_add);
    if (size === 1) this.mem(W.i64_load8_u);
    else this.mem(size === 2 ? W.i64_load16_u : W.i64_load32_u).op(W.call).u(size === 2 ? Fn.bswap16 : Fn.bswap32);
    this.set(R(0));
  }

  // ---- control ----
  private target(pc: number, rel: number): number {
    return this.blocks.blockAt[pc + 1 + rel]!;
  }

  private jmp(pc: number, block: number): void {
    const p = this.p, o = p.op[pc]!, d = p.dst[pc]!;
    if (o === O.OP_JA) { this.jumpTo(this.target(pc, p.off[pc]!), block); return; }
    if (o === O.OP_JA32) { this.jumpTo(this.target(pc, p.imm[pc]!), block); return; }
    if (o === O.OP_EXIT) return this.exit();
    if (o === O.OP_CALL || o === O.OP_CALLX) return this.call(pc);
    if (o === O.OP_MAY_GOTO) {
      this.get(L_MAYGOTO).op(W.i32_eqz).if().gotoBlock(this.target(pc, p.off[pc]!)).end();
      this.get(L_MAYGOTO).i32c(1).op(W.i32_sub).set(L_MAYGOTO);
      return;
    }
    this.condition(o, d, p.src[pc]!, p.imm[pc]!);
    this.if().gotoBlock(this.target(pc, p.off[pc]!)).end();
  }

  private jumpTo(target: number, block: number): void {
    if (target !== block + 1) this.gotoBlock(target);
  }

  /** Pushes the i32 truth of a conditional jump. */
  private condition(o: number, d: number, s: number, imm: number): void {
    const x = O.srcBit(o) === O.SRC_X, is32 = O.cls(o) === O.CLS_JMP32, code = O.aluOp(o);
    if (is32) {
      this.get(R(d)).op(W.i32_wrap_i64);
      if (x) this.get(R(s)).op(W.i32_wrap_i64); else this.i32c(imm);
    } else {
      this.get(R(d));
      if (x) this.get(R(s)); else this.i64c(imm);
    }
    const cmp = is32 ? CMP32 : CMP64;
    if (code === O.JMP_JSET) {
      this.op(is32 ? W.i32_and : W.i64_and, is32 ? W.i32_eqz : W.i64_eqz, W.i32_eqz);
      return;
    }
    this.op(cmp[code]!);
  }

  private call(pc: number): void {
    const p = this.p, o = p.op[pc]!;
    const retBlock = this.blocks.blockAt[pc + 1]!;
    if (o === O.OP_CALLX) {
      this.get(R(p.dst[pc]!)).i32c(pc).host(Host.callx).op(W.local_tee).u(L_TI).i32c(0).op(W.i32_ge_s);
      this.if();
      this.localCall(pc, retBlock, null);
      this.else();
      this.helperCall(Host.helper, () => this.get(R(p.dst[pc]!)).op(W.i32_wrap_i64).i32c(pc));
      this.end();
      return;
    }
    const src = p.src[pc]!;
    if (src === O.CALL_LOCAL) return this.localCall(pc, retBlock, this.target(pc, p.imm[pc]!));
    if (src === O.CALL_HELPER) return this.helperCall(Host.helper, () => this.i32c(p.imm[pc]!).i32c(pc));
    this.helperCall(Host.kfunc, () => this.i32c(p.imm[pc]!).i32c(p.off[pc]!).i32c(pc));
  }

  /** Calls a host function with r1-r5, the budget and the frame depth; r0 and the budget come back. */
  private helperCall(fn: Host, leading: () => void): void {
    leading();
    for (let k = 1; k <= 5; k++) this.get(R(k));
    this.get(L_BUDGET).op(W.f64_convert_i64_s);
    this.get(L_DEPTH);
    this.host(fn).set(R(0));
    this.gget(G.budgetIO).op(W.i64_trunc_f64_s).set(L_BUDGET);
  }

  /** bpf-to-bpf call: save r6-r9 and the return block, enter the next frame. */
  private localCall(pc: number, retBlock: number, target: number | null): void {
    this.get(L_DEPTH).i32c(MAX_FRAMES - 1).op(W.i32_ge_s);
    this.if().i32c(FaultKind.callDepth).i32c(pc).host(Host.fault).op(W.unreachable).end();
    const frameAddr = (): this => this.gget(G.cstack).get(L_DEPTH).i32c(CSTACK_FRAME).op(W.i32_mul, W.i32_add);
    frameAddr().i32c(retBlock).op(W.i32_store, 2, 0);
    for (let r = 6; r <= 9; r++) frameAddr().get(R(r)).op(W.i64_store, 3).u(8 + (r - 6) * 8);
    this.get(L_DEPTH).i32c(1).op(W.i32_add).set(L_DEPTH);
    this.frameEnd().set(R(10));
    this.frameFill();
    if (target === null) this.get(L_TI).set(L_NEXT).brDispatch();
    else this.gotoBlock(target);
  }

  /** r10 for the current depth, as i64. */
  private frameEnd(): this {
    return this.gget(G.frameEnd0).get(L_DEPTH).gget(G.frameStride).op(W.i32_mul, W.i32_add, W.i64_extend_i32_u);
  }

  private exit(): void {
    this.get(L_DEPTH).op(W.i32_eqz).if().brDone().end();
    this.get(L_DEPTH).i32c(1).op(W.i32_sub).set(L_DEPTH);
    const frameAddr = (): this => this.gget(G.cstack).get(L_DEPTH).i32c(CSTACK_FRAME).op(W.i32_mul, W.i32_add);
    for (let r = 6; r <= 9; r++) frameAddr().op(W.i64_load, 3).u(8 + (r - 6) * 8).set(R(r));
    this.frameEnd().set(R(10));
    // The frame just left is no longer a region: forget a cached region that is
    // a frame deeper than the one returned to; keep any other.
    for (const c of [L_RD, L_WR]) {
      this.get(c);
      this.frameEnd().i64c(STACK_SIZE - 1).op(W.i64_sub); // start of frame depth+1 is frameEnd(depth) + stride - 512
      this.gget(G.frameStride).op(W.i64_extend_i32_u, W.i64_add).i64c(1).op(W.i64_sub);
      this.op(W.i64_sub); // base - start(depth + 1)
      this.i64c(MAX_FRAMES).get(L_DEPTH).op(W.i64_extend_i32_u).op(W.i64_sub).i64c(1).op(W.i64_sub);
      this.gget(G.frameStride).op(W.i64_extend_i32_u, W.i64_mul); // (7 - depth) * stride covers frames depth+1..7
      this.op(W.i64_lt_u).if();
      for (let k = 1; k <= 4; k++) this.i64c(0).set(c + k);
      this.end();
    }
    frameAddr().op(W.i32_load, 2, 0).set(L_NEXT);
    this.brDispatch();
  }
}

/** ALU operations by code >> 4 (add, sub, mul, -, or, and, lsh, rsh, -, -, xor, -, arsh). */
const ALU64: Record<number, number> = {
  [O.ALU_ADD >> 4]: W.i64_add, [O.ALU_SUB >> 4]: W.i64_sub, [O.ALU_MUL >> 4]: W.i64_mul, [O.ALU_OR >> 4]: W.i64_or,
  [O.ALU_AND >> 4]: W.i64_and, [O.ALU_XOR >> 4]: W.i64_xor, [O.ALU_LSH >> 4]: W.i64_shl, [O.ALU_RSH >> 4]: W.i64_shr_u,
  [O.ALU_ARSH >> 4]: W.i64_shr_s,
};
const ALU32: Record<number, number> = {
  [O.ALU_ADD >> 4]: W.i32_add, [O.ALU_SUB >> 4]: W.i32_sub, [O.ALU_MUL >> 4]: W.i32_mul, [O.ALU_OR >> 4]: W.i32_or,
  [O.ALU_AND >> 4]: W.i32_and, [O.ALU_XOR >> 4]: W.i32_xor, [O.ALU_LSH >> 4]: W.i32_shl, [O.ALU_RSH >> 4]: W.i32_shr_u,
  [O.ALU_ARSH >> 4]: W.i32_shr_s,
};
const ATOMIC_OPS: Record<number, number> = {
  [O.ATOMIC_ADD]: W.i64_add, [O.ATOMIC_OR]: W.i64_or, [O.ATOMIC_AND]: W.i64_and, [O.ATOMIC_XOR]: W.i64_xor,
};

const CMP64: Record<number, number> = {
  [O.JMP_JEQ]: W.i64_eq, [O.JMP_JNE]: W.i64_ne, [O.JMP_JGT]: W.i64_gt_u, [O.JMP_JGE]: W.i64_ge_u,
  [O.JMP_JLT]: W.i64_lt_u, [O.JMP_JLE]: W.i64_le_u, [O.JMP_JSGT]: W.i64_gt_s, [O.JMP_JSGE]: W.i64_ge_s,
  [O.JMP_JSLT]: W.i64_lt_s, [O.JMP_JSLE]: W.i64_le_s,
};
const CMP32: Record<number, number> = {
  [O.JMP_JEQ]: W.i32_eq, [O.JMP_JNE]: W.i32_ne, [O.JMP_JGT]: W.i32_gt_u, [O.JMP_JGE]: W.i32_ge_u,
  [O.JMP_JLT]: W.i32_lt_u, [O.JMP_JLE]: W.i32_le_u, [O.JMP_JSGT]: W.i32_gt_s, [O.JMP_JSGE]: W.i32_ge_s,
  [O.JMP_JSLT]: W.i32_lt_s, [O.JMP_JSLE]: W.i32_le_s,
};

function loadOp(size: number, signed: boolean): number {
  switch (size) {
    case 1: return signed ? W.i64_load8_s : W.i64_load8_u;
    case 2: return signed ? W.i64_load16_s : W.i64_load16_u;
    case 4: return signed ? W.i64_load32_s : W.i64_load32_u;
    default: return W.i64_load;
  }
}

function storeOp(size: number): number {
  return size === 1 ? W.i64_store8 : size === 2 ? W.i64_store16 : size === 4 ? W.i64_store32 : W.i64_store;
}
