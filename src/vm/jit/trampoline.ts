/**
 * The host functions reach a compiled program through a small fixed module
 * that wraps each one in a WebAssembly function, placed in a table the
 * program imports. V8 builds a JS-call wrapper for every imported function of
 * every module it compiles, which cost more than compiling a small program; a
 * table import costs nothing. This module's bytes never change, so it is
 * compiled once per process.
 */
import { IMPORTS, MAGIC, TYPES } from './compile.js';
import { Bytes, W } from './wasm.js';

let compiled: WebAssembly.Module | null = null;

function trampolineBytes(): Uint8Array<ArrayBuffer> {
  const m = new Bytes().bytes(MAGIC);
  const types = new Bytes().u32(TYPES.length);
  for (const [params, results] of TYPES) types.byte(0x60).u32(params.length).bytes(params).u32(results.length).bytes(results);
  m.section(1, types);
  const imports = new Bytes().u32(IMPORTS.length);
  for (const [name, type] of IMPORTS) imports.str('host').str(name).byte(0x00).u32(type);
  m.section(2, imports);
  const funcs = new Bytes().u32(IMPORTS.length);
  for (const [, type] of IMPORTS) funcs.u32(type);
  m.section(3, funcs);
  const exports = new Bytes().u32(IMPORTS.length);
  IMPORTS.forEach(([name], k) => exports.str(name).byte(0x00).u32(IMPORTS.length + k));
  m.section(7, exports);
  const code = new Bytes().u32(IMPORTS.length);
  IMPORTS.forEach(([, type], k) => {
    const body = new Bytes().u32(0);
    TYPES[type]![0].forEach((_, p) => body.byte(W.local_get).u32(p));
    body.byte(W.call).u32(k).byte(W.end);
    code.sized(body);
  });
  m.section(10, code);
  return m.result();
}

type HostFns = Record<string, (...a: never[]) => unknown>;

/** The host functions of the run in progress (runs nest when a helper runs another program). */
let current: HostFns | null = null;
let shared: WebAssembly.Table | null = null;

/**
 * The table a program module imports: one WebAssembly function per host
 * function, in `Host` order. They call the host functions of whichever run is
 * in progress, so one instance serves every program.
 */
export function hostTable(): WebAssembly.Table {
  if (shared === null) {
    compiled ??= new WebAssembly.Module(trampolineBytes());
    const host: Record<string, (...a: unknown[]) => unknown> = {};
    for (const [name] of IMPORTS) host[name] = (...a: unknown[]) => (current![name] as (...x: unknown[]) => unknown)(...a);
    const exports = new WebAssembly.Instance(compiled, { host: host as WebAssembly.ModuleImports }).exports;
    shared = new WebAssembly.Table({ element: 'anyfunc', initial: IMPORTS.length });
    IMPORTS.forEach(([name], k) => shared!.set(k, exports[name] as WebAssembly.ExportValue));
  }
  return shared;
}

/** Makes `fns` the host functions of the run starting now; returns the previous ones to restore. */
export function enterHost(fns: HostFns | null): HostFns | null {
  const prev = current;
  current = fns;
  return prev;
}
