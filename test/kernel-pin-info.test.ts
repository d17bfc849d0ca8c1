// Pinning in bpffs (across processes, only our own pins removed, the bpffs
// mount), iteration over the system's programs, maps and links, feature
// probing, and the bpftool-like CLI commands built on them.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { after, test, type TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { insn, OP_EXIT } from '../src/isa/index.js';
import {
  BpffsError,
  KernelError,
  KernelMap,
  Link,
  PinError,
  PinMismatchError,
  PinRegistry,
  addressOf,
  bpf,
  bpffs,
  bpffsMounts,
  clearFeatureCache,
  getPinned,
  helperSupported,
  isOnBpffs,
  listLinks,
  listMaps,
  listPrograms,
  loadCollection,
  mapById,
  mapTypeSupport,
  mapTypeSupported,
  openPinnedMap,
  pinMismatches,
  pinObject,
  pinPathFor,
  probeFeatures,
  progInfo,
  progLoad,
  progTypeSupport,
  progTypeSupported,
  programInfoById,
  resolvePinnedMap,
  supportedHelpers,
  type Bpffs,
  type MapInfo,
} from '../src/kernel/index.js';
import { MapFlag, MapType } from '../src/object/kinds.js';
import { loadObject } from '../src/object/index.js';
import type { MapSpec } from '../src/object/spec.js';
import { REPO_ROOT } from './support/conformance-data.js';
import { needKernel, openFds } from './support/kernel.js';
import { sh } from './support/netns.js';
import { run, tsbpf } from './support/spawn.js';

const KERNEL_INDEX = `${REPO_ROOT}dist/src/kernel/index.js`;
const ret0 = [insn(0xb7, { dst: 0, imm: 0 }), insn(OP_EXIT)];
const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const u64 = (n: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const object = (dir: string, name: string) => loadObject(new Uint8Array(readFileSync(`${REPO_ROOT}testdata/${dir}/${name}.o`)), name);

/** Runs an ES module script in a child node process (it imports the kernel backend from dist). */
async function child(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const src = `import * as k from ${JSON.stringify(KERNEL_INDEX)};\n${script}`;
  return run(process.execPath, ['--input-type=module', '-e', src], undefined, 15_000);
}

// One private bpffs for the whole file, mounted by the test and unmounted after it.
let mount: Bpffs | null = null;
let mountDir = '';
function pinDir(t: TestContext): string | null {
  if (!needKernel(t)) return null;
  if (mount === null) {
    mountDir = mkdtempSync(`${tmpdir()}/tsbpf-bpffs-`);
    const notices: string[] = [];
    mount = bpffs({ mountPoint: mountDir, onNotice: (n) => notices.push(n) });
    assert.equal(mount.mountedHere, true);
    assert.equal(notices.length, 1, 'the user is told when bpffs is mounted');
    assert.match(notices[0]!, /mounted bpffs at .*tsbpf-bpffs-/);
  }
  return mountDir;
}
after(() => {
  if (mount) {
    mount.release();
    assert.equal(isOnBpffs(mountDir), false, 'the test unmounted the bpffs it mounted');
    rmdirSync(mountDir);
  }
});

test('pin paths and mismatch rules (no kernel needed)', () => {
  assert.equal(pinPathFor({ name: 'counts' }, '/sys/fs/bpf/app/'), '/sys/fs/bpf/app/counts');
  assert.throws(() => pinPathFor({ name: 'a/b' }, '/sys/fs/bpf'), { code: 'EARG' });
  assert.throws(() => pinPathFor({ name: '..' }, '/sys/fs/bpf'), { code: 'EARG' });
  const info: MapInfo = {
    type: MapType.HASH, id: 1, keySize: 4, valueSize: 8, maxEntries: 16, flags: MapFlag.NO_PREALLOC,
    name: 'm', btfId: 0, btfKeyTypeId: 0, btfValueTypeId: 0, mapExtra: 0n,
  };
  const def = { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16, flags: MapFlag.NO_PREALLOC };
  assert.deepEqual(pinMismatches(info, def), []);
  const bad = pinMismatches(info, { ...def, type: MapType.ARRAY, maxEntries: 32, flags: 0 });
  assert.deepEqual(bad.map((m) => m.field), ['type', 'maxEntries', 'flags']);
  assert.deepEqual(bad[0], { field: 'type', pinned: 'HASH', wanted: 'ARRAY' });
  // numa_node > 0 implies BPF_F_NUMA_NODE, as at creation.
  assert.deepEqual(pinMismatches({ ...info, flags: MapFlag.NO_PREALLOC | MapFlag.NUMA_NODE }, { ...def, numaNode: 1 }), []);
});

test('bpffs: an existing mount is found and never unmounted; mount: false refuses to mount', (t) => {
  const dir = pinDir(t);
  if (dir === null) return;
  const again = bpffs({ mountPoint: dir, onNotice: () => assert.fail('no notice for an existing mount') });
  assert.equal(again.mountedHere, false);
  assert.equal(again.notice, null);
  again.release();
  assert.equal(isOnBpffs(dir), true, 'release() of a mount found, not made, does nothing');
  assert.ok(bpffsMounts().includes(dir));
  assert.equal(again.join('x'), `${dir}/x`);
  assert.throws(() => again.join('../x'), BpffsError);
  const plain = mkdtempSync(`${tmpdir()}/tsbpf-nobpffs-`);
  try {
    assert.throws(() => bpffs({ mountPoint: plain, mount: false }), (e: unknown) => e instanceof BpffsError && e.code === 'ENOBPFFS');
    assert.equal(isOnBpffs(plain), false);
    // Pinning outside bpffs says so.
    using m = KernelMap.create({ name: 'nopin', type: 'ARRAY', keySize: 4, valueSize: 4, maxEntries: 1 });
    assert.throws(() => pinObject(m, `${plain}/m`), (e: unknown) => e instanceof BpffsError && e.code === 'ENOTBPFFS');
  } finally {
    rmdirSync(plain);
  }
  // The default location: whatever is there is reported, and nothing is mounted with mount: false.
  const before = isOnBpffs('/sys/fs/bpf');
  try {
    const d = bpffs({ mount: false });
    assert.equal(d.mountedHere, false);
    assert.ok(isOnBpffs(d.path));
  } catch (e) {
    assert.ok(e instanceof BpffsError && e.code === 'ENOBPFFS', String(e));
  }
  assert.equal(isOnBpffs('/sys/fs/bpf'), before);
});

test('a pinned map survives its process and is reopened by another', async (t) => {
  const dir = pinDir(t);
  if (dir === null) return;
  const path = `${dir}/survivor`;
  try {
    const made = await child(`
      const m = k.KernelMap.create({ name: 'survivor', type: 'HASH', keySize: 4, valueSize: 8, maxEntries: 8 });
      const key = new Uint8Array([7, 0, 0, 0]);
      const val = new Uint8Array(8); new DataView(val.buffer).setBigUint64(0, 0x1122334455n, true);
      m.update(key, val);
      k.pinObject(m, ${JSON.stringify(path)});
      console.log(m.info().id);
      m.close();`);
    assert.equal(made.code, 0, made.stderr);
    const id = Number(made.stdout.trim());
    assert.ok(existsSync(path), 'the pin outlives the process that made it');
    {
      using m = openPinnedMap(path);
      assert.equal(m.info().id, id, 'the same map');
      assert.equal(m.name, 'survivor');
      assert.equal(m.type, MapType.HASH);
      assert.equal(m.keySize, 4);
      assert.equal(m.valueSize, 8);
      assert.deepEqual(m.lookup(u32(7)), u64(0x1122334455n));
      m.update(u32(8), u64(99n));
    }
    // A read-only open (BPF_OBJ_GET file_flags) cannot write.
    {
      using ro = openPinnedMap(path, { access: 'read' });
      assert.deepEqual(ro.lookup(u32(8)), u64(99n));
      assert.throws(() => ro.update(u32(9), u64(1n)), (e: unknown) => e instanceof KernelError && e.errnoName === 'EPERM');
    }
    const read = await child(`
      const m = k.openPinnedMap(${JSON.stringify(path)});
      const v = m.lookup(new Uint8Array([8, 0, 0, 0]));
      console.log(m.info().id, String(new DataView(v.buffer).getBigUint64(0, true)));
      m.close();`);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout.trim(), `${id} 99`, 'another process sees what this one wrote');
    const obj = getPinned(path);
    assert.equal(obj.kind, 'map');
    obj.close();
    assert.throws(() => getPinned(`${dir}/nothing-here`), (e: unknown) => e instanceof KernelError && e.errnoName === 'ENOENT');
  } finally {
    if (existsSync(path)) unlinkSync(path);
  }
});

test('PinRegistry removes only the pins this process made', async (t) => {
  const dir = pinDir(t);
  if (dir === null) return;
  using m = KernelMap.create({ name: 'reg', type: 'ARRAY', keySize: 4, valueSize: 4, maxEntries: 1 });
  using other = KernelMap.create({ name: 'other', type: 'ARRAY', keySize: 4, valueSize: 4, maxEntries: 1 });
  const reg = new PinRegistry();
  const mine = `${dir}/mine`;
  const foreign = `${dir}/foreign`;
  const replaced = `${dir}/replaced`;
  try {
    reg.pin(m, mine);
    pinObject(other, foreign); // someone else's pin
    reg.pin(m, replaced);
    unlinkSync(replaced);
    pinObject(other, replaced); // re-pinned by someone else since
    assert.deepEqual(reg.paths.sort(), [mine, replaced].sort());
    assert.equal(reg.owns(mine), true);
    assert.equal(reg.owns(replaced), false);
    assert.equal(reg.owns(foreign), false);
    assert.deepEqual(reg.cleanup(), [mine]);
    assert.equal(existsSync(mine), false);
    assert.equal(existsSync(foreign), true, 'a pin made by someone else stays');
    assert.equal(existsSync(replaced), true, 'a path re-pinned by someone else stays');
    assert.deepEqual(reg.paths, []);
  } finally {
    for (const p of [mine, foreign, replaced]) if (existsSync(p)) unlinkSync(p);
  }
  // removeOnExit: a child's registry pins go when it exits, except what it forgot (--keep) and what it pinned directly.
  const r = await child(`
    const m = k.KernelMap.create({ name: 'x', type: 'ARRAY', keySize: 4, valueSize: 4, maxEntries: 1 });
    const reg = new k.PinRegistry({ removeOnExit: true });
    reg.pin(m, ${JSON.stringify(`${dir}/gone`)});
    reg.pin(m, ${JSON.stringify(`${dir}/kept`)});
    reg.forget(${JSON.stringify(`${dir}/kept`)});
    k.pinObject(m, ${JSON.stringify(`${dir}/direct`)});
    console.log(reg.paths.length);`);
  try {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1');
    assert.equal(existsSync(`${dir}/gone`), false, 'removed at exit');
    assert.equal(existsSync(`${dir}/kept`), true);
    assert.equal(existsSync(`${dir}/direct`), true);
  } finally {
    for (const p of ['gone', 'kept', 'direct']) if (existsSync(`${dir}/${p}`)) unlinkSync(`${dir}/${p}`);
  }
});

test('pinning by_name: a compatible pin is reused, an incompatible one refused', (t) => {
  const dir = pinDir(t);
  if (dir === null) return;
  const spec = object('object', 'map_in_map');
  const lru = spec.maps.get('pinned_lru')!;
  assert.equal(lru.pinning, 'by_name');
  const reg = new PinRegistry();
  try {
    assert.equal(resolvePinnedMap(lru, dir), null, 'nothing pinned yet');
    using created = KernelMap.create(lru);
    assert.equal(reg.pinMap(created, lru, dir), `${dir}/pinned_lru`);
    created.update(u32(5), new Uint8Array(lru.valueSize).fill(3));
    {
      using reused = resolvePinnedMap(lru, dir);
      assert.ok(reused !== null);
      assert.equal(reused.info().id, created.info().id, 'the pinned map itself');
      assert.deepEqual(reused.lookup(u32(5)), new Uint8Array(lru.valueSize).fill(3));
    }
    const bigger: MapSpec = { ...lru, maxEntries: lru.maxEntries * 2 };
    assert.throws(() => resolvePinnedMap(bigger, dir), (e: unknown) =>
      e instanceof PinMismatchError && e.code === 'EPINMISMATCH' && e.mismatches.length === 1 && e.mismatches[0]!.field === 'maxEntries');
    assert.equal(resolvePinnedMap({ ...lru, pinning: 'none' }, dir), null, 'maps without by_name pinning never reuse');
    // A program pinned under a map's name is not a map.
    using prog = progLoad({ type: 'XDP', insns: ret0, name: 'pinned_prog' });
    const asProg: MapSpec = { ...lru, name: 'prog_pin' };
    reg.pin(prog, `${dir}/prog_pin`);
    assert.throws(() => resolvePinnedMap(asProg, dir), (e: unknown) => e instanceof PinError && e.code === 'EPINKIND');
  } finally {
    reg.cleanup();
  }
  assert.equal(existsSync(`${dir}/pinned_lru`), false);
});

test('lists and shows include a program, its map and a link the test made', (t) => {
  if (!needKernel(t)) return;
  using coll = loadCollection(object('progs', 'xdp_count'));
  const progId = progInfo(coll.program('xdp_count').fd).id;
  const mapId = coll.map('proto_stats').info().id;
  const p = listPrograms().find((x) => x.id === progId);
  assert.ok(p, 'listPrograms has the loaded program');
  assert.equal(p.name, 'xdp_count');
  assert.equal(p.typeName, 'XDP');
  assert.deepEqual(p.mapIds, [mapId]);
  assert.match(p.tag, /^[0-9a-f]{16}$/);
  assert.ok(p.bytesXlated > 0 && p.gplCompatible);
  assert.ok(p.loadedAt !== null && Math.abs(p.loadedAt.getTime() - Date.now()) < 120_000, `loadedAt ${String(p.loadedAt)}`);
  assert.deepEqual(programInfoById(progId), p);
  const m = listMaps().find((x) => x.id === mapId);
  assert.ok(m);
  assert.equal(m.name, 'proto_stats');
  assert.ok(m.btfId > 0);
  {
    using byId = mapById(mapId);
    assert.equal(byId.keySize, 4);
    assert.equal(byId.valueSize, 16);
  }
  using raw = progLoad({ type: 'RAW_TRACEPOINT', insns: ret0, name: 'pin_info_rtp' });
  const name = new TextEncoder().encode('sys_enter\0');
  const attr = new Uint8Array(16);
  new DataView(attr.buffer).setBigUint64(0, addressOf(name), true);
  new DataView(attr.buffer).setUint32(8, raw.fd, true);
  using link = new Link(bpf(17 /* BPF_RAW_TRACEPOINT_OPEN */, attr), 'raw_tp');
  const l = listLinks().find((x) => x.id === link.info().id);
  assert.ok(l, 'listLinks has the link');
  assert.equal(l.typeName, 'RAW_TRACEPOINT');
  assert.equal(l.progId, progInfo(raw.fd).id);
});

test('feature probe: XDP, HASH and their helpers, cached and fast', (t) => {
  if (!needKernel(t)) return;
  clearFeatureCache();
  const t0 = performance.now();
  const report = probeFeatures();
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `program and map types probed in ${Math.round(ms)} ms`);
  assert.equal(report.programTypes['XDP'], true);
  assert.equal(report.programTypes['SOCKET_FILTER'], true);
  assert.equal(report.mapTypes['HASH'], true);
  assert.equal(report.mapTypes['RINGBUF'], true);
  assert.equal(report.helpers, undefined, 'helpers only when asked for');
  assert.equal(progTypeSupported('XDP'), true);
  assert.equal(mapTypeSupported(MapType.HASH), true);
  assert.equal(progTypeSupport('XDP'), progTypeSupport(6), 'cached');
  assert.equal(mapTypeSupport('LPM_TRIE'), mapTypeSupport(MapType.LPM_TRIE));
  assert.throws(() => progTypeSupport('NOPE' as never), { code: 'EARG' });
  const t1 = performance.now();
  const xdp = supportedHelpers('XDP');
  const names = xdp.map((h) => h.name);
  assert.ok(names.includes('bpf_map_lookup_elem'));
  assert.ok(names.includes('bpf_xdp_adjust_head'));
  assert.ok(names.includes('bpf_redirect_map'));
  assert.ok(!names.includes('bpf_skb_store_bytes'), 'an skb helper is not an XDP helper');
  assert.ok(!names.includes('bpf_skb_vlan_push'));
  assert.equal(helperSupported('SCHED_CLS', 'bpf_skb_store_bytes'), true);
  assert.equal(helperSupported('SOCKET_FILTER', 'bpf_skb_store_bytes'), false);
  assert.equal(supportedHelpers('XDP'), xdp, 'cached');
  assert.ok(performance.now() - t1 < 2000);
});

test('nothing leaks: lists, probes, pins and opens leave the fd count unchanged', (t) => {
  const dir = pinDir(t);
  if (dir === null) return;
  const before = openFds();
  for (let k = 0; k < 20; k++) {
    listPrograms();
    listMaps();
    listLinks();
    const m = KernelMap.create({ name: 'leak', type: 'HASH', keySize: 4, valueSize: 4, maxEntries: 2 });
    const reg = new PinRegistry();
    reg.pin(m, `${dir}/leak`);
    openPinnedMap(`${dir}/leak`).close();
    getPinned(`${dir}/leak`).close();
    const spec = { name: 'leak', section: '.maps', type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 2, flags: 0, pinning: 'by_name' } as unknown as MapSpec;
    resolvePinnedMap({ ...spec, mapExtra: 0n }, dir)?.close();
    assert.throws(() => resolvePinnedMap({ ...spec, mapExtra: 0n, keySize: 8 }, dir), PinMismatchError);
    mapById(m.info().id).close();
    reg.cleanup();
    m.close();
  }
  clearFeatureCache();
  probeFeatures({ helpers: ['XDP'] });
  assert.equal(openFds(), before);
});

test('CLI: feature probe, prog, map and link commands', async (t) => {
  if (!needKernel(t)) return;
  using coll = loadCollection(object('progs', 'xdp_count'));
  const progId = progInfo(coll.program('xdp_count').fd).id;
  const stats = coll.map('proto_stats');
  const mapId = stats.info().id;
  const key = Uint8Array.from([0x00, 0x08, 17, 0]); // l3 0x0800, l4 UDP, no vlan
  const value = new Uint8Array(16);
  value.set(u64(5n), 0);
  value.set(u64(300n), 8);
  stats.update(key, value);
  using percpu = KernelMap.create({ name: 'pin_info_pc', type: 'PERCPU_ARRAY', keySize: 4, valueSize: 8, maxEntries: 2 });
  percpu.update(u32(1), Array.from({ length: percpu.cpus }, (_, c) => u64(BigInt(10 + c))));
  const pcId = percpu.info().id;

  const [feat, plist, pshow, mlist, dump, pcdump, look, miss, usage, noId] = await Promise.all([
    tsbpf(['feature', 'probe', '--helpers', 'xdp', '--json']),
    tsbpf(['prog', 'list', '--json']),
    tsbpf(['prog', 'show', String(progId), '--json']),
    tsbpf(['map', 'list', '--json']),
    tsbpf(['map', 'dump', String(mapId), '--json']),
    tsbpf(['map', 'dump', String(pcId), '--json']),
    tsbpf(['map', 'lookup', String(mapId), '00 08 11 00', '--json']),
    tsbpf(['map', 'lookup', String(mapId), '00080600', '--json']),
    tsbpf(['map', 'frob', String(mapId)]),
    tsbpf(['prog', 'show', '4294967295', '--json']),
  ]);
  assert.equal(feat.code, 0, feat.stderr);
  const f = JSON.parse(feat.stdout) as { programTypes: Record<string, boolean>; mapTypes: Record<string, boolean>; helpers: Record<string, string[]> };
  assert.equal(f.programTypes['XDP'], true);
  assert.equal(f.mapTypes['HASH'], true);
  assert.ok(f.helpers['XDP']!.includes('bpf_map_lookup_elem'));

  assert.equal(plist.code, 0, plist.stderr);
  const progs = JSON.parse(plist.stdout) as Array<Record<string, unknown>>;
  const mine = progs.find((p) => p['id'] === progId);
  assert.ok(mine, 'prog list has the test program');
  assert.equal(mine['name'], 'xdp_count');
  assert.equal(mine['type'], 'XDP');
  assert.deepEqual(mine['mapIds'], [mapId]);
  assert.equal(pshow.code, 0, pshow.stderr);
  // Each process computes the wall-clock load time from its own clock reads.
  const shown = JSON.parse(pshow.stdout) as Record<string, unknown>;
  assert.ok(Math.abs(Date.parse(String(shown['loadedAt'])) - Date.parse(String(mine['loadedAt']))) < 50);
  assert.deepEqual({ ...shown, loadedAt: null }, { ...mine, loadedAt: null });

  assert.equal(mlist.code, 0, mlist.stderr);
  const maps = JSON.parse(mlist.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(maps.find((m) => m['id'] === mapId), {
    id: mapId, type: 'HASH', name: 'proto_stats', keySize: 4, valueSize: 16, maxEntries: 64, flags: 0, btfId: stats.info().btfId,
  });

  // The entries have the shape of `tsbpf run --json`'s maps, decoded through the map's BTF.
  const entry = { key: '00081100', value: hex(value), formatted: { key: { l3: 0x0800, l4: 17, vlan: 0 }, value: { packets: 5, bytes: 300 } } };
  assert.equal(dump.code, 0, dump.stderr);
  assert.deepEqual(JSON.parse(dump.stdout), [entry]);
  assert.equal(pcdump.code, 0, pcdump.stderr);
  const pc = JSON.parse(pcdump.stdout) as Array<{ key: string; values: Array<{ cpu: number; value: string }>; formatted: { values: Array<{ cpu: number; value: unknown }> } }>;
  assert.equal(pc.length, 2);
  assert.deepEqual(pc[1]!.values, Array.from({ length: percpu.cpus }, (_, c) => ({ cpu: c, value: hex(u64(BigInt(10 + c))) })));
  assert.deepEqual(pc[1]!.formatted.values.map((v) => v.value), Array.from({ length: percpu.cpus }, (_, c) => 10 + c));
  assert.equal(look.code, 0, look.stderr);
  assert.deepEqual(JSON.parse(look.stdout), entry);
  assert.equal(miss.code, 1, 'a missing key exits 1');
  assert.equal((JSON.parse(miss.stdout) as { error: { code: string } }).error.code, 'ENOKEY');
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /unknown map command/);
  assert.equal(noId.code, 2);
  assert.equal((JSON.parse(noId.stdout) as { error: { code: string } }).error.code, 'EKERNEL');

  // update, then the kernel has it; a bad value size is a usage error.
  const upd = await tsbpf(['map', 'update', String(mapId), '00080600', hex(new Uint8Array(16).fill(1)), 'noexist', '--json']);
  assert.equal(upd.code, 0, upd.stderr);
  assert.deepEqual(stats.lookup(Uint8Array.from([0, 8, 6, 0])), new Uint8Array(16).fill(1));
  assert.equal((JSON.parse(upd.stdout) as { key: string }).key, '00080600');
  const again = await tsbpf(['map', 'update', String(mapId), '00080600', hex(new Uint8Array(16)), 'noexist', '--json']);
  assert.equal(again.code, 2, 'noexist on an existing key fails');
  const short = await tsbpf(['map', 'update', String(mapId), '00080600', 'ff']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /16-byte values/);
});

test('CLI: link list and link detach', async (t) => {
  if (!needKernel(t)) return;
  // A flow dissector link on a throwaway network namespace: a link type that supports detach.
  const ns = `tsbpf-pin-${randomBytes(4).toString('hex')}`;
  const add = sh('ip', ['netns', 'add', ns]);
  if (add.code !== 0) {
    t.skip(`ip netns add fails: ${add.stderr.trim()}`);
    return;
  }
  let nsFd = -1;
  try {
    nsFd = openSync(`/run/netns/${ns}`, 'r');
    using prog = progLoad({ type: 'FLOW_DISSECTOR', insns: ret0, name: 'pin_info_fd', expectedAttachType: 17 });
    const attr = new Uint8Array(16);
    const v = new DataView(attr.buffer);
    v.setUint32(0, prog.fd, true);
    v.setUint32(4, nsFd, true);
    v.setUint32(8, 17 /* BPF_FLOW_DISSECTOR */, true);
    using link = new Link(bpf(28 /* BPF_LINK_CREATE */, attr), 'netns');
    const id = link.info().id;
    const netnsIno = (l: { raw: Uint8Array }): number => new DataView(l.raw.buffer, l.raw.byteOffset).getUint32(0, true);
    assert.ok(netnsIno(link.info()) !== 0, 'attached to the namespace');
    const list = await tsbpf(['link', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const mine = (JSON.parse(list.stdout) as Array<Record<string, unknown>>).find((l) => l['id'] === id);
    assert.deepEqual(mine, { id, type: 'NETNS', progId: progInfo(prog.fd).id, attachType: 17 });
    const det = await tsbpf(['link', 'detach', String(id), '--json']);
    assert.equal(det.code, 0, det.stderr);
    assert.equal((JSON.parse(det.stdout) as { detached: { id: number } }).detached.id, id);
    assert.equal(netnsIno(link.info()), 0, 'the link no longer holds the namespace: detached');
    const bad = await tsbpf(['link', 'detach', 'x']);
    assert.equal(bad.code, 2);
  } finally {
    if (nsFd >= 0) closeSync(nsFd);
    sh('ip', ['netns', 'del', ns]);
  }
});

