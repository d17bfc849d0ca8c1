// Collection-level rules of the vm: which helpers a program type may call,
// libbpf's defaults for map sizes, read-only global data.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { assemble } from '../src/asm/index.js';
import { loadObject, MapType, newMapSpec } from '../src/object/index.js';
import { loadVm, VmFault } from '../src/vm/index.js';
import { isTsbpfError } from '../src/errors.js';

const PROGS = new URL('../../testdata/progs/', import.meta.url);
const spec = (name: string) => loadObject(new Uint8Array(readFileSync(new URL(`${name}.o`, PROGS))), name);

test('a helper the program type may not call faults saying so; an allowed one runs', () => {
  const s = spec('xdp_count');
  const p = s.programs.get('xdp_count')!;
  const withCode = (text: string) => s.programs.set('xdp_count', { ...p, insns: assemble(text), maps: [], externs: [], funcInfo: [], lineInfo: [], coreRelos: [] });
  // bpf_probe_read (4) is a tracing helper: the kernel refuses it in XDP.
  withCode('r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall 4\nexit');
  const col = loadVm(s);
  assert.throws(() => col.programs.get('xdp_count')!.run([0n], col.host('xdp_count')),
    (e: unknown) => e instanceof VmFault && e.code === 'EHELPER' && /not allowed in XDP programs/.test(e.message));
  withCode('call 8\nexit'); // get_smp_processor_id is allowed everywhere
  const ok = loadVm(s);
  assert.equal(ok.programs.get('xdp_count')!.run([0n], ok.host('xdp_count', 0)).r0, 0n);
});

test('a perf event array without max_entries gets a slot per CPU; ring buffer sizes round up as libbpf does', () => {
  const s = spec('xdp_count');
  s.maps.set('events', newMapSpec('events', '.maps', { type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 }));
  const col = loadVm(s, { cpus: 3 });
  assert.equal(col.maps.get('events')!.maxEntries, 3);
  const rb = loadObject(new Uint8Array(readFileSync(new URL('ringbuf.o', PROGS))), 'ringbuf');
  assert.equal(rb.maps.get('events')!.maxEntries, 65536);
});

test('read-only global data is frozen after load: programs read it, user space cannot write it', () => {
  const col = loadVm(spec('globals'));
  const ro = col.maps.get('globals.rodata')!;
  assert.equal(ro.frozen, true);
  assert.throws(() => ro.updateValue(new Uint8Array(4), new Uint8Array(ro.valueSize)), (e: unknown) => isTsbpfError(e) && /EPERM/.test(e.message));
  assert.equal(col.maps.get('globals.bss')!.frozen, false);
});
