// Generated skeletons: they type-check (they are compiled with the tests),
// they match what the generator prints today, and their typed maps and
// globals work on a real run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generateSkeleton } from '../src/cli/gen-skeleton.js';
import { loadObject } from '../src/object/index.js';
import { readCapture } from '../src/pcap/index.js';
import { XdpHook, type RunFn } from '../src/vm/hooks/index.js';
import type { VmCollection, VmProgram } from '../src/vm/index.js';
import { loadXdpCount } from './skel/xdp_count.skel.js';
import { loadHistogram } from './skel/histogram.skel.js';
import { loadGlobals } from './skel/globals.skel.js';

const ROOT = new URL('../../', import.meta.url);
const FRAMES = readCapture(new Uint8Array(readFileSync(new URL('testdata/mixed.pcap', ROOT)))).packets.map((p) => p.data);

function runAll(col: VmCollection, prog: VmProgram): void {
  const hook = new XdpHook(col.space);
  const run: RunFn = (args, host, packet) => prog.run(args, { ...col.host(prog.name), ...host }, packet ?? null).r0;
  for (const f of FRAMES) hook.run(f, run);
}

for (const name of ['xdp_count', 'histogram', 'globals']) {
  test(`${name}.skel.ts is what the generator prints today (test/skel/regen.sh refreshes it)`, () => {
    const bytes = new Uint8Array(readFileSync(new URL(`testdata/progs/${name}.o`, ROOT)));
    const want = generateSkeleton(loadObject(bytes, name), bytes, '../../src/index.js');
    assert.equal(readFileSync(new URL(`test/skel/${name}.skel.ts`, ROOT), 'utf8'), want);
  });
}

test('a skeleton gives typed maps: keys and values are objects, 64-bit counters bigints', () => {
  const skel = loadXdpCount();
  runAll(skel.collection, skel.programs.xdp_count);
  const tcp = skel.maps.proto_stats.lookup({ l3: 0x0800, l4: 6, vlan: 0 });
  assert.deepEqual(tcp, { packets: 183n, bytes: 55840n });
  assert.equal(skel.maps.proto_stats.lookup({ l3: 0x0800, l4: 99, vlan: 0 }), undefined);
  const all = [...skel.maps.proto_stats.entries()];
  assert.equal(all.length, 10);
  assert.equal(all.reduce((n, [, v]) => n + v.packets, 0n), 332n);
  // Writes go through the same encoding.
  skel.maps.proto_stats.update({ l3: 1, l4: 2, vlan: 3 }, { packets: 7n, bytes: 8n });
  assert.deepEqual(skel.maps.proto_stats.lookup({ l3: 1, l4: 2, vlan: 3 }), { packets: 7n, bytes: 8n });
});

test('a skeleton types percpu maps as one value per CPU', () => {
  const skel = loadHistogram({ cpus: 2 });
  runAll(skel.collection, skel.programs.xdp_histogram);
  const v = skel.maps.size_log2.lookup(6);
  assert.ok(v !== undefined && v.length === 2);
  assert.equal(v[0]! + v[1]!, 137n); // 64..127-byte frames in the capture, all run on CPU 0
});

test('a skeleton sets .rodata before load and reads globals after runs', () => {
  const dflt = loadGlobals();
  assert.equal(dflt.globals.rodata.cfg_port, 443);
  runAll(dflt.collection, dflt.programs.xdp_globals);
  const changed = loadGlobals({ globals: { rodata: { cfg_port: 80 } } });
  assert.equal(changed.globals.rodata.cfg_port, 80);
  runAll(changed.collection, changed.programs.xdp_globals);
  assert.equal(dflt.globals.bss.seen, 332n);
  assert.equal(changed.globals.bss.seen, 332n);
  assert.notEqual(dflt.globals.bss.to_port, changed.globals.bss.to_port);
  assert.equal(dflt.globals.data.name, 'tsbpf-globals');
});
