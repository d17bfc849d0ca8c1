// CO-RE in the vm: relocations against the hook contexts it lays out as the
// kernel does resolve; any other type leaves the program unrunnable, with a
// typed error that says why. The kernel resolves the same object against
// vmlinux and must agree.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isTsbpfError } from '../src/errors.js';
import { loadObject } from '../src/object/index.js';
import { loadVm } from '../src/vm/index.js';
import { XdpHook, type RunFn } from '../src/vm/hooks/index.js';
import { loadCollection, progTestRun } from '../src/kernel/index.js';
import { needKernel } from './support/kernel.js';

const CORE = new URL('../../testdata/core/', import.meta.url);
const spec = (f: string) => loadObject(new Uint8Array(readFileSync(new URL(f, CORE))), f.replace(/\.o$/, ''));
const frames = [new Uint8Array(60), new Uint8Array(100), new Uint8Array(101), new Uint8Array(1500)];

test('CO-RE against xdp_md resolves in the vm, and the vm agrees with the kernel', (t) => {
  const s = spec('xdp_ctx.o');
  const col = loadVm(s);
  const p = col.programs.get('xdp_len')!;
  assert.equal(p.unsupported, null);
  const hook = new XdpHook(col.space);
  const run: RunFn = (a, host, pk) => p.run(a, { ...col.host(p.name), ...host }, pk ?? null).r0;
  const vm = frames.map((f) => hook.run(f, run).action);
  assert.deepEqual(vm, [2, 2, 1, 1]); // PASS up to 100 bytes, DROP above
  if (!needKernel(t)) return;
  using k = loadCollection(s);
  assert.deepEqual(frames.map((f) => progTestRun(k.programs.get('xdp_len')!, { data: f }).retval), vm);
});

test('CO-RE against a kernel type loads, but running it is a typed error naming the type', () => {
  const col = loadVm(spec('task.o'));
  const p = col.programs.get('task')!;
  assert.ok(p.unsupported !== null && /task_struct/.test(p.unsupported.message));
  assert.throws(() => p.run([0n]), (e: unknown) => isTsbpfError(e) && /cannot run in the vm/.test(e.message));
});
