import { spawn } from 'node:child_process';
import { REPO_ROOT } from './conformance-data.js';

export const CLI = `${REPO_ROOT}dist/src/cli/main.js`;
export const PLUGIN = `${REPO_ROOT}dist/src/cli/conformance-plugin-bin.js`;

export interface Spawned {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

/** Runs a command with optional stdin; resolves when it exits. Killed after `timeoutMs`. */
export function run(cmd: string, args: readonly string[], stdin?: string | Uint8Array, timeoutMs = 30_000): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code: code ?? -1, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
    child.stdin.end(stdin ?? '');
  });
}

/** `tsbpf ARGS...` */
export const tsbpf = (args: readonly string[], stdin?: string | Uint8Array): Promise<Spawned> =>
  run(process.execPath, [CLI, ...args], stdin);

/** Maps `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++;
      results[k] = await fn(items[k]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
