// The bpf_conformance suite (../shared/conformance), run the way the official
// runner runs it: assemble, then hand the bytes to `tsbpf conformance-plugin`
// on stdin as hex, with the memory as the first argument.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assemble, AsmError } from '../src/asm/index.js';
import { decode, DecodeError, encode } from '../src/isa/index.js';
import { runProgram } from '../src/vm/index.js';
import { listCases, runnerHex, type ConformanceCase } from './support/conformance-data.js';
import { pool, run, PLUGIN } from './support/spawn.js';

const positives = listCases('tests');
const negatives = listCases('negative');

function programBytes(c: ConformanceCase): Uint8Array {
  if (c.raw !== null) return c.raw;
  if (c.asm === null) throw new Error(`${c.name} has no program`);
  return encode(assemble(c.asm));
}

/** What the runner accepts: exit 0 and r0 equal in its low 32 bits. */
async function runThroughPlugin(c: ConformanceCase, engine: string): Promise<string | null> {
  const r = await run(process.execPath, [PLUGIN, runnerHex(c.mem), `--engine ${engine}`], runnerHex(programBytes(c)) + '\n');
  if (r.code !== 0) return `${c.name}: plugin exited ${r.code}: ${r.stderr.trim()}`;
  const got = BigInt.asUintN(64, BigInt(r.stdout.trim()));
  if (BigInt.asUintN(32, got) !== BigInt.asUintN(32, c.result ?? 0n)) {
    return `${c.name}: r0 = 0x${got.toString(16)}, expected 0x${(c.result ?? 0n).toString(16)}`;
  }
  return null;
}

test('the suite has all 313 positive tests', () => {
  assert.equal(positives.length, 313);
});

for (const engine of ['jit', 'interp']) {
  test(`all 313 conformance tests pass through tsbpf conformance-plugin --engine ${engine}`, async () => {
    const failures = (await pool(positives, 6, (c) => runThroughPlugin(c, engine))).filter((f) => f !== null);
    console.log(`conformance (${engine}): ${positives.length - failures.length}/${positives.length} passed`);
    assert.deepEqual(failures, []);
  });
}

test('positive tests give the full 64-bit result where it is given in 64 bits', () => {
  // The runner compares only the low 32 bits; check the rest too where the
  // expected value carries high bits.
  for (const c of positives) {
    if (c.result === null || c.result <= 0xffffffffn) continue;
    const { r0 } = runProgram(decode(programBytes(c)), c.mem);
    assert.equal(r0, c.result, c.name);
  }
});

test('every "-- raw" negative test is rejected by the decoder', async () => {
  const raws = negatives.filter((c) => c.raw !== null);
  assert.ok(raws.length >= 40, `found ${raws.length} raw negatives`);
  for (const c of raws) {
    assert.throws(() => decode(c.raw!), (e: unknown) => e instanceof DecodeError, c.name);
  }
  // And the plugin refuses them with a non-zero exit and a message.
  const results = await pool(raws, 6, (c) => run(process.execPath, [PLUGIN, runnerHex(c.mem)], runnerHex(c.raw!)));
  results.forEach((r, k) => {
    assert.notEqual(r.code, 0, raws[k]!.name);
    assert.match(r.stderr, /EDECODE/, raws[k]!.name);
  });
});

test('every invalid_* negative test is rejected by the assembler', () => {
  const invalid = negatives.filter((c) => c.name.startsWith('invalid_'));
  assert.ok(invalid.length >= 10);
  for (const c of invalid) {
    assert.throws(() => assemble(c.asm ?? ''), (e: unknown) => e instanceof AsmError, c.name);
  }
});

test('the empty negative tests hold no program', () => {
  for (const c of negatives.filter((c) => c.name.startsWith('empty'))) {
    assert.equal(c.raw, null, c.name);
    if (c.asm !== null) assert.throws(() => assemble(c.asm!), AsmError, c.name);
    assert.throws(() => decode(new Uint8Array(0)), DecodeError);
  }
});

test("the runner's self-tests (error.data, incorrect_return_value_high_bits.data) run normally", async () => {
  for (const name of ['error.data', 'incorrect_return_value_high_bits.data']) {
    const c = negatives.find((n) => n.name === name)!;
    const r = await run(process.execPath, [PLUGIN, runnerHex(c.mem)], runnerHex(programBytes(c)));
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout.trim(), /^0x[0-9a-f]+$/);
  }
});
