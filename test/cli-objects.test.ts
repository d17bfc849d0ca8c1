// The object commands as a user runs them: `tsbpf run OBJ.o --pcap`,
// `tsbpf inspect`, `tsbpf gen skeleton`, with their contracts and exit codes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readCapture, writePcap } from '../src/pcap/index.js';
import { REPO_ROOT } from './support/conformance-data.js';
import { tsbpf } from './support/spawn.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cli-objects-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PROGS = `${REPO_ROOT}testdata/progs`;
const PCAP = `${REPO_ROOT}testdata/mixed.pcap`;
const HEX = /^[0-9a-f]*$/;

test('run OBJ.o --pcap --json prints exactly the contract object', async () => {
  const r = await tsbpf(['run', `${PROGS}/xdp_firewall.o`, '--pcap', PCAP, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'one JSON object');
  const o = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(o).sort(), ['maps', 'printk', 'programs']);
  assert.deepEqual(o['programs'], { xdp_firewall: { runs: 332, actions: { XDP_PASS: 313, XDP_DROP: 19 } } });
  const maps = o['maps'] as Record<string, Array<Record<string, unknown>>>;
  assert.deepEqual(Object.keys(maps).sort(), ['blocked', 'control', 'verdicts']);
  for (const entries of Object.values(maps)) {
    for (const e of entries) {
      assert.deepEqual(Object.keys(e).sort(), ['formatted', 'key', 'value']);
      assert.match(e['key'] as string, HEX);
      assert.match(e['value'] as string, HEX);
    }
  }
  // 198.51.100.0/24 blocked 12 frames, as the kernel does (testdata/progs/README.md).
  const rule = maps['blocked']!.find((e) => (e['key'] as string) === '18000000c6336400');
  assert.deepEqual((rule!['formatted'] as Record<string, unknown>)['value'], { hits: 12, id: 1, pad: 0 });
  assert.deepEqual(o['printk'], []);
});

test('run --json: percpu maps give values per CPU, ring buffers their events, printk its lines', async () => {
  const h = JSON.parse((await tsbpf(['run', `${PROGS}/histogram.o`, '--pcap', PCAP, '--json', '--cpus', '2'])).stdout) as {
    maps: Record<string, Array<{ key: string; values: Array<{ cpu: number; value: string }>; formatted: { values: Array<{ cpu: number; value: unknown }> } }>>;
  };
  const bucket = h.maps['size_log2']!.find((e) => e.key === '06000000')!;
  assert.deepEqual(bucket.values.map((v) => v.cpu), [0, 1]);
  assert.equal(bucket.formatted.values.reduce((n, v) => n + (v.value as number), 0), 137);

  const rb = JSON.parse((await tsbpf(['run', `${PROGS}/ringbuf.o`, '--pcap', PCAP, '--json'])).stdout) as { maps: Record<string, Array<Record<string, unknown>>> };
  const events = rb.maps['events']!;
  assert.ok(events.length > 10);
  for (const e of events) assert.deepEqual(Object.keys(e), ['value']);

  const g = JSON.parse((await tsbpf(['run', `${PROGS}/globals.o`, '--pcap', PCAP, '--json'])).stdout) as { printk: Array<Record<string, unknown>>; maps: Record<string, Array<{ formatted: { value: Record<string, unknown> } }>> };
  assert.deepEqual(g.printk[0], { prog: 'xdp_globals', packet: 0, text: 'tsbpf-globals: first frame, 96 bytes, magic 74736270' });
  assert.equal(g.maps['globals.bss']![0]!.formatted.value['seen'], 332);
});

test('run --out writes the frames XDP programs sent as pcap', async () => {
  const out = join(dir, 'sent.pcap');
  const r = await tsbpf(['run', `${REPO_ROOT}testdata/hooks/xdp_bytes.o`, '--pcap', PCAP, '--json', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as { programs: Record<string, { actions: Record<string, number> }> };
  const tx = Object.values(o.programs).reduce((n, p) => n + (p.actions['XDP_TX'] ?? 0), 0);
  assert.ok(tx > 0);
  assert.equal(readCapture(new Uint8Array(readFileSync(out))).packets.length, tx);
});

test('run OBJ.o text output shows actions, maps decoded through BTF, and printk', async () => {
  const r = await tsbpf(['run', `${PROGS}/xdp_count.o`, '--pcap', PCAP]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /program xdp_count \(XDP\): 332 runs, XDP_PASS 332/);
  assert.match(r.stdout, /proto_stats \(HASH, 10 entries\)/);
  assert.match(r.stdout, /"l3":2048,"l4":6,"vlan":0\}\s+value: \{"packets":183,"bytes":55840\}/);
});

test('run OBJ.o: bad input exits 2 with a typed error, never a crash', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['run', `${PROGS}/xdp_count.o`], /needs --pcap/],
    [['run', `${PROGS}/xdp_count.o`, '--pcap', `${PROGS}/xdp_count.c`], /EPCAP/],
    [['run', `${PROGS}/xdp_count.o`, '--pcap', PCAP, '--prog', 'nope'], /no program nope/],
    [['run', `${PROGS}/xdp_count.o`, '--pcap', PCAP, '--cpus', '0'], /--cpus/],
  ];
  const truncated = join(dir, 'truncated.o');
  writeFileSync(truncated, readFileSync(`${PROGS}/xdp_count.o`).subarray(0, 300));
  cases.push([['run', truncated, '--pcap', PCAP], /EELF|EOBJECT|EBTF/]);
  for (const [args, why] of cases) {
    const r = await tsbpf(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
    assert.doesNotMatch(r.stderr, /internal error|    at /);
  }
  const j = await tsbpf(['run', truncated, '--pcap', PCAP, '--json']);
  assert.equal(j.code, 2);
  assert.match((JSON.parse(j.stdout) as { error: { code: string } }).error.code, /^E[A-Z]+$/);
});

test('inspect lists programs, maps, globals, types and source lines', async () => {
  const r = await tsbpf(['inspect', `${PROGS}/globals.o`, '--json', '--types', '--lines']);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as {
    programs: Array<{ name: string; type: string }>; maps: Array<{ name: string }>; globals: Array<{ name: string; value: unknown }>;
    types: Array<{ name: string }>; lines: Record<string, Array<{ line: number; text: string }>>;
  };
  assert.deepEqual(o.programs.map((p) => [p.name, p.type]), [['xdp_globals', 'XDP']]);
  assert.deepEqual(o.maps.map((m) => m.name), ['globals.rodata', 'globals.data', 'globals.bss']);
  assert.equal(o.globals.find((g) => g.name === 'cfg_port')!.value, 443);
  assert.ok(o.types.length > 5);
  assert.ok(o.lines['xdp_globals']!.some((l) => l.text.includes('seen')));
  const text = await tsbpf(['inspect', `${PROGS}/tail_calls.o`]);
  assert.match(text.stdout, /jmp_table\s+PROG_ARRAY/);
});

test('gen skeleton prints a module that embeds the object', async () => {
  const r = await tsbpf(['gen', 'skeleton', `${PROGS}/xdp_count.o`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /from "tsbpf";/);
  assert.match(r.stdout, /export interface ProtoKey \{/);
  assert.match(r.stdout, /readonly proto_stats: TypedMap<ProtoKey, ProtoCounts>;/);
  assert.equal((await tsbpf(['gen', 'nonsense'])).code, 2);
});

test('run --backend kernel --json gives the vm\'s programs and maps (xdp_firewall.o), with printk not captured', async (t) => {
  const { needKernel } = await import('./support/kernel.js');
  if (!needKernel(t)) return;
  const vm = await tsbpf(['run', `${PROGS}/xdp_firewall.o`, '--pcap', PCAP, '--json']);
  const kernel = await tsbpf(['run', `${PROGS}/xdp_firewall.o`, '--pcap', PCAP, '--json', '--backend', 'kernel']);
  assert.equal(kernel.code, 0, kernel.stderr);
  const v = JSON.parse(vm.stdout) as Record<string, unknown>;
  const k = JSON.parse(kernel.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(k).sort(), ['maps', 'printk', 'programs']);
  assert.deepEqual(k['programs'], v['programs']);
  assert.deepEqual(k['maps'], v['maps']);
  assert.deepEqual(k['printk'], []);
  assert.match(kernel.stderr, /not captured/);
  const bad = await tsbpf(['run', `${PROGS}/xdp_firewall.o`, '--pcap', PCAP, '--backend', 'kernel', '--engine', 'interp']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--engine is an option of the vm backend/);
  assert.equal((await tsbpf(['run', `${PROGS}/xdp_firewall.o`, '--pcap', PCAP, '--backend', 'gpu'])).code, 2);
});

test('run OBJ.o: frames a program type cannot take are skipped and counted, not fatal', async () => {
  const frames = readCapture(new Uint8Array(readFileSync(PCAP))).packets.slice(0, 3).map((p) => ({ data: p.data, tsNs: p.tsNs }));
  const odd = join(dir, 'odd.pcap');
  writeFileSync(odd, writePcap([{ data: new Uint8Array(10) }, ...frames, { data: new Uint8Array(9000) }]));
  const r = await tsbpf(['run', `${PROGS}/xdp_count.o`, '--pcap', odd, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { programs: Record<string, { runs: number }> }).programs['xdp_count']!.runs, 3);
  assert.match(r.stderr, /xdp_count skipped 2 frames .*first: packet 0/);
  // An unwritable --out and an absurd --cpus are refused before any frame runs.
  const bad = await tsbpf(['run', `${PROGS}/xdp_count.o`, '--pcap', odd, '--out', join(dir, 'no/such/dir/out.pcap')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /EIO.*cannot write/);
  assert.equal((await tsbpf(['run', `${PROGS}/xdp_count.o`, '--pcap', odd, '--cpus', '5000'])).code, 2);
});
