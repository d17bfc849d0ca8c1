// Captures verifier-log-<kernel>.txt and verifier-log-<kernel>.hex: the
// log_level 2 verifier log of verifier-log.s loaded as XDP, and the bytes that
// were loaded (one 8-byte slot per line, in hex). Needs root (bpf(2)) and a
// built tsbpf: `npx tsc -p .` at the repository root, then
//   node testdata/objdump/capture-verifier-log.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { assemble } from '../../dist/src/asm/index.js';
import { encode } from '../../dist/src/isa/index.js';
import { progLoad } from '../../dist/src/kernel/index.js';

const here = new URL('./', import.meta.url);
const insns = assemble(readFileSync(new URL('verifier-log.s', here), 'utf8'), { syntax: 'llvm' });
const bytes = encode(insns);
const prog = progLoad({ type: 'XDP', insns: bytes, logLevel: 2 });
prog.close();
const kernel = /^\d+\.\d+/.exec(release())?.[0] ?? release();
const slots = [];
for (let at = 0; at < bytes.length; at += 8) slots.push(Buffer.from(bytes.subarray(at, at + 8)).toString('hex'));
writeFileSync(new URL(`verifier-log-${kernel}.txt`, here), prog.log);
writeFileSync(new URL(`verifier-log-${kernel}.hex`, here), `${slots.join('\n')}\n`);
console.log(`verifier-log-${kernel}.txt: ${prog.log.split('\n').length} lines, ${slots.length} slots`);
