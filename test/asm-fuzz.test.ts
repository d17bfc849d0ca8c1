import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AsmError, assemble, disassemble, formatInstruction, type Syntax } from '../src/asm/index.js';
import { encode, type Instruction, validate } from '../src/isa/index.js';
import { arbInstruction, arbProgram } from './gen/valid-insn.js';

const hex = (p: readonly Instruction[]): string => Array.from(encode(p), (x) => x.toString(16).padStart(2, '0')).join('');
const SYNTAXES: Syntax[] = ['ubpf', 'llvm'];

test('generated instructions are valid', () => {
  fc.assert(fc.property(arbInstruction(), (i) => validate(i) === null), { numRuns: 5000 });
  fc.assert(fc.property(arbProgram(), (p) => p.every((i) => validate(i) === null)), { numRuns: 500 });
});

for (const syntax of SYNTAXES) {
  test(`${syntax}: encode -> disassemble -> assemble gives identical bytes`, () => {
    fc.assert(
      fc.property(arbProgram(), fc.boolean(), fc.boolean(), (program, labels, pcs) => {
        const text = disassemble(program, { syntax, labels, pcs });
        const back = assemble(text, { syntax });
        assert.equal(hex(back), hex(program), text);
        // Auto-detection either finds the syntax or the text reads the same in both.
        assert.equal(hex(assemble(text)), hex(program), text);
      }),
      { numRuns: 2500 },
    );
  });

  test(`${syntax}: formatInstruction output re-assembles`, () => {
    fc.assert(
      fc.property(arbInstruction(), (i) => {
        const line = formatInstruction(i, 0, syntax);
        assert.equal(hex(assemble(line, { syntax })), hex([i]), line);
      }),
      { numRuns: 5000 },
    );
  });
}

/** Runs the assembler; anything other than success or an AsmError fails. */
function onlyAsmError(text: string, syntax?: Syntax): void {
  try {
    const program = syntax ? assemble(text, { syntax }) : assemble(text);
    for (const i of program) assert.equal(validate(i), null, `${JSON.stringify(text)} gave an invalid instruction`);
  } catch (e) {
    if (!(e instanceof AsmError)) throw new Error(`${JSON.stringify(text)} threw ${String(e)}`);
    assert.ok(e.line >= 1 && e.column >= 1, e.message);
  }
}

const VOCAB = [
  'mov', 'mov32', 'add', 'add32', 'sdiv', 'smod32', 'neg', 'lsh', 'arsh32', 'movsx832', 'movsx3264', 'le16', 'be64',
  'bswap32', 'swap16', 'lddw', 'ldxb', 'ldxdw', 'ldxsw', 'stb', 'stdw', 'stxw', 'lock', 'fetch', 'xchg', 'cmpxchg32',
  'ja', 'ja32', 'jeq', 'jsle32', 'jset', 'call', 'local', 'kfunc', 'runtime', 'exit', 'may_goto', 'addr_space_cast',
  'ldabsw', 'ldindb', 'load_acqw', 'store_reldw', 'map_fd', 'map_value', 'btf_id', 'func', 'map_idx', 'map_idx_value',
  '%r0', '%r1', '%r10', '%r11', '%r99', 'r0', 'r1', 'r10', 'r11', 'w0', 'w1', 'w10', 'pc', 'skb', 'll',
  'if', 'goto', 'gotol', 'callx', 'store_release', 'load_acquire', 'atomic_fetch_add', 'atomic64_fetch_or',
  'xchg_64', 'xchg32_32', 'cmpxchg_64', 'cmpxchg32_32', 'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64',
  '=', '+=', '-=', 's>>=', 's/=', '<<=', '==', '!=', 's<', 's>=', '&', '*', '(', ')', '[', ']', ',', ':', '+', '-',
  '#', ';', '//', '<', '>', '0', '1', '-1', '+1', '8', '16', '32', '64', '0x10', '0xffffffff', '0x100000000',
  '2147483648', '-2147483648', '32767', '32768', '-32769', '0xffffffffffffffff', '99999999999999999999999999',
  'L1', 'L1:', 'exit:', 'foo', '--', '0:', '(b7)', '\n', '\t', '\r\n',
];

const tokenSoup = fc.array(fc.constantFrom(...VOCAB), { maxLength: 14 }).chain((words) =>
  fc.array(fc.constantFrom(' ', '', ', ', '\n'), { minLength: words.length, maxLength: words.length }).map((seps) =>
    words.map((w, k) => w + seps[k]).join('')));

test('random text only ever raises AsmError', () => {
  const texts = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
    tokenSoup,
  );
  fc.assert(fc.property(texts, fc.constantFrom<Syntax | undefined>('ubpf', 'llvm', undefined), (t, s) => onlyAsmError(t, s)), {
    numRuns: 6000,
  });
});

test('mutated valid programs only ever raise AsmError', () => {
  const mutation = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom('delete', 'insert', 'replace', 'word', 'swap'),
    text: fc.oneof(fc.constantFrom(...VOCAB), fc.string({ unit: 'grapheme-ascii', maxLength: 3 })),
  });
  fc.assert(
    fc.property(arbProgram({ maxLength: 6 }), fc.constantFrom(...SYNTAXES), fc.array(mutation, { minLength: 1, maxLength: 4 }), (p, syntax, muts) => {
      let text = disassemble(p, { syntax });
      for (const m of muts) {
        const at = text.length === 0 ? 0 : m.at % text.length;
        if (m.kind === 'delete') text = text.slice(0, at) + text.slice(at + 1 + (m.at % 3));
        else if (m.kind === 'insert') text = text.slice(0, at) + m.text + text.slice(at);
        else if (m.kind === 'replace') text = text.slice(0, at) + m.text + text.slice(at + m.text.length);
        else if (m.kind === 'word') text = text.replace(/[%\w.]+/g, (w, off: number) => (off >= at && off < at + 8 ? m.text : w));
        else {
          const lines = text.split('\n');
          const k = m.at % Math.max(1, lines.length - 1);
          [lines[k], lines[k + 1]] = [lines[k + 1] ?? '', lines[k] ?? ''];
          text = lines.join('\n');
        }
      }
      onlyAsmError(text, syntax);
      onlyAsmError(text);
    }),
    { numRuns: 4000 },
  );
});

test('long and pathological lines finish quickly', () => {
  const start = Date.now();
  for (const t of ['9'.repeat(100000), `mov %r0, ${'('.repeat(100000)}`, 'r0 = '.repeat(20000), `${'a:'.repeat(5000)}exit`, `#${'x'.repeat(100000)}\nexit`]) {
    onlyAsmError(t, 'ubpf');
    onlyAsmError(t, 'llvm');
    onlyAsmError(t);
  }
  assert.ok(Date.now() - start < 2000);
});
