// The CLI contracts: JSON shapes and exit codes, as scripts see them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encode, insn } from '../src/isa/index.js';
import { REPO_ROOT } from './support/conformance-data.js';
import { tsbpf } from './support/spawn.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, data: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};
const EX = `${REPO_ROOT}examples`;

test('run --json on the shipped example gives the documented shape', async () => {
  const r = await tsbpf(['run', `${EX}/ipv4-ttl.s`, '--mem', `${EX}/packet.bin`, '--json', '--repeat', '50']);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(o).sort(), ['engine', 'insns', 'mem', 'ns_per_run', 'r0']);
  assert.equal(o['r0'], '0x0000000000000002');
  assert.equal(o['engine'], 'jit');
  assert.equal(typeof o['insns'], 'number');
  assert.equal(typeof o['ns_per_run'], 'number');
  const before = readFileSync(`${EX}/packet.bin`);
  const after = Buffer.from(o['mem'] as string, 'hex');
  assert.equal(after.length, before.length);
  assert.equal(after[22], before[22]! - 1, 'TTL decremented');
  // The patched header checksum is still valid.
  let sum = 0;
  for (let k = 14; k < 34; k += 2) sum += after.readUInt16BE(k);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  assert.equal(sum, 0xffff);
});

test('run without --mem sets r1 = r2 = 0 and prints an empty mem', async () => {
  const p = file('r2.bin', encode([insn(0xbf, { dst: 0, src: 1 }), insn(0x0f, { dst: 0, src: 2 }), insn(0x95)]));
  const r = await tsbpf(['run', p, '--json']);
  assert.equal(r.code, 0);
  const o = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(o['r0'], '0x0000000000000000');
  assert.equal(o['mem'], '');
  assert.equal(o['insns'], 3);
});

test('a memory fault exits 1 with the error object', async () => {
  const p = file('oob.bin', encode([insn(0x79, { dst: 0, src: 1, off: 100 }), insn(0x95)]));
  const m = file('m.bin', new Uint8Array(8));
  const r = await tsbpf(['run', p, '--mem', m, '--json']);
  assert.equal(r.code, 1);
  const o = JSON.parse(r.stdout) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(o.error).sort(), ['address', 'code', 'insn', 'message', 'region']);
  assert.equal(o.error['code'], 'EFAULT');
  assert.equal(o.error['insn'], 0);
  assert.equal(o.error['region'], 'mem');
  assert.match(o.error['address'] as string, /^0x[0-9a-f]+$/);
});

test('running out of budget exits 1', async () => {
  const p = file('loop.bin', encode([insn(0x05, { off: -1 }), insn(0x95)]));
  const r = await tsbpf(['run', p, '--budget', '1000', '--json']);
  assert.equal(r.code, 1);
  assert.equal((JSON.parse(r.stdout) as { error: { code: string; insn: number } }).error.code, 'EBUDGET');
  const t = await tsbpf(['run', p, '--budget', '1000']);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /EBUDGET/);
});

test('bad input exits 2 with a readable error, or the error object with --json', async () => {
  const bad = file('bad.bin', new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0]));
  const r = await tsbpf(['run', bad, '--json']);
  assert.equal(r.code, 2);
  const o = JSON.parse(r.stdout) as { error: Record<string, unknown> };
  assert.equal(o.error['code'], 'EDECODE');
  assert.equal(o.error['insn'], 0);
  assert.equal(o.error['address'], null);
  assert.equal(o.error['region'], null);

  const missing = await tsbpf(['run', join(dir, 'nope.s')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file/);

  const asmErr = await tsbpf(['run', file('bad.s', 'r0 = 1\nr0 +== 2\nexit\n'), '--json']);
  assert.equal(asmErr.code, 2);
  assert.equal((JSON.parse(asmErr.stdout) as { error: { code: string } }).error.code, 'EASM');

  for (const args of [['run'], ['run', bad, '--repeat', '0'], ['run', bad, '--bogus'], ['frobnicate'], ['run', bad, '--engine', 'nope']]) {
    const u = await tsbpf(args);
    assert.equal(u.code, 2, args.join(' '));
  }
});

test('asm -o writes bytecode that disasm prints back in both syntaxes', async () => {
  const out = join(dir, 'sum.bin');
  const a = await tsbpf(['asm', `${EX}/sum-bytes.s`, '-o', out]);
  assert.equal(a.code, 0, a.stderr);
  const bytes = readFileSync(out);
  assert.equal(bytes.length % 8, 0);
  for (const syntax of ['llvm', 'ubpf']) {
    const d = await tsbpf(['disasm', out, '--syntax', syntax]);
    assert.equal(d.code, 0, d.stderr);
    const back = await tsbpf(['asm', file(`back-${syntax}.s`, d.stdout), '-o', join(dir, `back-${syntax}.bin`)]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(readFileSync(join(dir, `back-${syntax}.bin`)), bytes, syntax);
  }
  const run = await tsbpf(['run', out, '--mem', `${EX}/packet.bin`, '--json']);
  const sum = [...readFileSync(`${EX}/packet.bin`)].reduce((s, b) => s + b, 0);
  assert.equal(BigInt((JSON.parse(run.stdout) as { r0: string }).r0), BigInt(sum));
});

test('asm reports the line and column of an error and exits 2', async () => {
  const r = await tsbpf(['asm', file('e.s', 'mov %r0, 1\nadd %r0, %r99\nexit\n')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /line 2, column \d+/);
});

test('--trace shows each step and the registers it changed', async () => {
  const r = await tsbpf(['run', `${EX}/sum-bytes.s`, '--mem', `${EX}/packet.bin`, '--trace', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as { insns: number; trace: Array<{ pc: number; changed: Record<string, string> }> };
  assert.equal(o.trace.length, o.insns);
  assert.deepEqual(o.trace[0], { pc: 0, depth: 0, changed: { r6: o.trace[0]!.changed['r6'] } });
  const text = await tsbpf(['run', `${EX}/sum-bytes.s`, '--mem', `${EX}/packet.bin`, '--trace']);
  assert.match(text.stdout, /^\s+0: r6 = r1\s+; r6=0x[0-9a-f]+$/m);
});

test('probe says whether the kernel is usable', async () => {
  const r = await tsbpf(['probe', '--json']);
  const o = JSON.parse(r.stdout) as { usable: boolean; reason?: string };
  assert.equal(r.code, o.usable ? 0 : 1);
  if (!o.usable) assert.ok(o.reason && o.reason.length > 0);
});
