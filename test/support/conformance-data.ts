import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One bpf_conformance `.data` file, split into its sections. */
export interface ConformanceCase {
  name: string;
  path: string;
  /** Text after `-- asm`, with unknown `--` directive lines kept in place. */
  asm: string | null;
  /** Bytes from `-- raw`, in either of its two forms. */
  raw: Uint8Array | null;
  mem: Uint8Array;
  /** Expected r0, as an unsigned 64-bit value. */
  result: bigint | null;
  error: string | null;
}

/** The repository root (tests compile to dist/test/...). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SHARED = `${REPO_ROOT}../shared/conformance`;

const KNOWN = new Set(['asm', 'raw', 'mem', 'result', 'error', 'c', 'no register offset']);

export function parseDataFile(path: string): ConformanceCase {
  const text = readFileSync(path, 'utf8');
  const sections = new Map<string, string[]>();
  let current: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const m = /^--\s*(.*?)\s*$/.exec(line);
    if (m && KNOWN.has(m[1]!)) {
      current = m[1]!;
      sections.set(current, []);
      continue;
    }
    if (current === null) continue;
    if (current !== 'asm' && line.startsWith('#')) continue;
    sections.get(current)!.push(line);
  }
  const body = (k: string): string | null => (sections.has(k) ? sections.get(k)!.join('\n') : null);
  const rawText = body('raw');
  let raw: Uint8Array | null = null;
  if (rawText !== null) {
    const words = rawText.split(/\s+/).filter((w) => w.length > 0);
    if (words.every((w) => /^0x[0-9a-fA-F]{1,16}$/.test(w))) {
      const view = new DataView(new ArrayBuffer(words.length * 8));
      words.forEach((w, k) => view.setBigUint64(k * 8, BigInt(w), true));
      raw = new Uint8Array(view.buffer);
    } else {
      raw = new Uint8Array(words.map((w) => parseInt(w, 16)));
    }
  }
  const memText = body('mem') ?? '';
  const memWords = memText.split(/\s+/).filter((w) => w.length > 0);
  const resultText = (body('result') ?? '').trim();
  const errorText = body('error');
  return {
    name: path.split('/').pop()!,
    path,
    asm: body('asm'),
    raw,
    mem: new Uint8Array(memWords.map((w) => parseInt(w, 16))),
    result: resultText === '' ? null : BigInt.asUintN(64, BigInt(resultText)),
    error: errorText === null ? null : errorText.trim(),
  };
}

export function listCases(dir: 'tests' | 'negative'): ConformanceCase[] {
  const d = `${SHARED}/${dir}`;
  return readdirSync(d)
    .filter((f) => f.endsWith('.data'))
    .sort()
    .map((f) => parseDataFile(`${d}/${f}`));
}

/** Hex as the official runner writes it: each byte followed by two spaces. */
export const runnerHex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0') + '  ').join('');
