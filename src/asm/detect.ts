import { splitLines, stripIndexPrefix } from './lexer.js';

export type Syntax = 'llvm' | 'ubpf';

const UBPF_FIRST = new RegExp(
  '^(?:(?:add|sub|mul|s?div|or|and|lsh|rsh|s?mod|xor|mov|arsh|neg)(?:32|64)?' +
    '|movsx\\d+|(?:le|be|b?swap)(?:16|32|64)|lddw|ldxs?(?:b|h|w|dw)|stx?(?:b|h|w|dw)' +
    '|ja|ja32|j(?:eq|gt|ge|set|ne|sgt|sge|lt|le|slt|sle)(?:32)?' +
    '|ld(?:abs|ind)(?:b|h|w)|load_acq(?:b|h|w|dw)|store_rel(?:b|h|w|dw)|addr_space_cast)$',
  'i',
);

/** How one line votes: 1 for uBPF, -1 for LLVM, 0 when it reads the same in both. */
function vote(raw: string): number {
  const line = stripIndexPrefix(raw).replace(/(?:;|\/\/|(?:^|\s)#).*$/, '').trim();
  if (line === '') return 0;
  if (/%r\d/i.test(line)) return 1;
  if (/=/.test(line) || /^(?:if|goto|gotol|callx|store_release)\b/.test(line) || /^(?:lock\s*)?\*/.test(line)) return -1;
  const body = line.replace(/^[A-Za-z_.][\w.]*:\s*/, '');
  const words = body.split(/[\s,]+/);
  const first = words[0] ?? '';
  if (UBPF_FIRST.test(first) || first === 'lock') return 1;
  if (first === 'call') {
    const arg = words[1] ?? '';
    if (arg === 'local' || arg === 'runtime') return 1;
    if (/^pc[+-]|^[A-Za-z_.]/.test(arg) && arg !== 'kfunc') return -1;
  }
  return 0;
}

/**
 * Guesses the syntax of a whole text: uBPF uses `%r` registers and
 * mnemonic-first lines (`mov %r0, 1`); LLVM uses `r0 = 1`, `if ... goto`,
 * `*(u32 *)`. The majority of the lines that tell them apart wins; text
 * that reads the same in both (only `exit`, `call 1`, ...) is `llvm`.
 */
export function detectSyntax(text: string): Syntax {
  let score = 0;
  for (const line of splitLines(text)) score += vote(line);
  return score > 0 ? 'ubpf' : 'llvm';
}
