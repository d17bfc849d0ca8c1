// Two throwaway network namespaces joined by a veth pair, for tests that
// attach programs to network hooks. Traffic only ever flows inside them; the
// namespaces are deleted by destroy() (and the veth with them).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { inNetns } from '../../src/kernel/netns.js';
import { AF_INET, MSG_DONTWAIT, SOCK_RAW, recv, sendto, sockaddrIn, socket } from '../../src/kernel/socket.js';
import { closeFd } from '../../src/kernel/syscall.js';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command synchronously, killed after `timeoutMs`. */
export function sh(cmd: string, args: readonly string[], timeoutMs = 5000): Ran {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** Runs a command without blocking the event loop, killed after `timeoutMs`. */
export function shAsync(cmd: string, args: readonly string[], timeoutMs = 5000): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(e) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Null when `ip netns` can create and delete namespaces here, otherwise why not. */
export function netnsUnusable(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  const v = sh('ip', ['-V']);
  if (v.code !== 0) return `the ip command (iproute2) does not run: ${v.stderr.trim() || `exit ${v.code}`}`;
  const name = `tsbpf-probe-${randomBytes(4).toString('hex')}`;
  const add = sh('ip', ['netns', 'add', name]);
  if (add.code !== 0) return `ip netns add fails: ${add.stderr.trim()}`;
  sh('ip', ['netns', 'del', name]);
  return null;
}

/**
 * Namespaces `a` and `b`, with `ifA` (address `ipA`) in a and its veth
 * peer `ifB` (`ipB`) in b, both up, on a /24 that exists only there.
 */
export class VethPair {
  readonly a: string;
  readonly b: string;
  readonly ifA = 'tsveth-a';
  readonly ifB = 'tsveth-b';
  readonly ipA: string;
  readonly ipB: string;

  private constructor() {
    const tag = randomBytes(4).toString('hex');
    this.a = `tsbpf-${tag}-a`;
    this.b = `tsbpf-${tag}-b`;
    const net = 1 + (randomBytes(1)[0]! % 250);
    this.ipA = `10.231.${net}.1`;
    this.ipB = `10.231.${net}.2`;
  }

  /** Creates the pair; on any failure removes what was made and throws. */
  static create(): VethPair {
    const p = new VethPair();
    const steps: Array<readonly string[]> = [
      ['netns', 'add', p.a],
      ['netns', 'add', p.b],
      ['link', 'add', p.ifA, 'netns', p.a, 'type', 'veth', 'peer', 'name', p.ifB, 'netns', p.b],
      ['-n', p.a, 'addr', 'add', `${p.ipA}/24`, 'dev', p.ifA],
      ['-n', p.b, 'addr', 'add', `${p.ipB}/24`, 'dev', p.ifB],
      ['-n', p.a, 'link', 'set', 'lo', 'up'],
      ['-n', p.b, 'link', 'set', 'lo', 'up'],
      ['-n', p.a, 'link', 'set', p.ifA, 'up'],
      ['-n', p.b, 'link', 'set', p.ifB, 'up'],
    ];
    try {
      for (const s of steps) {
        const r = sh('ip', s);
        if (r.code !== 0) throw new Error(`ip ${s.join(' ')}: ${r.stderr.trim()}`);
      }
    } catch (e) {
      p.destroy();
      throw e;
    }
    return p;
  }

  /** `ip netns exec NS CMD ARGS...` without blocking the event loop. */
  exec(ns: string, cmd: string, args: readonly string[], timeoutMs = 5000): Promise<Ran> {
    return shAsync('ip', ['netns', 'exec', ns, cmd, ...args], timeoutMs);
  }

  /** Pings b from a `count` times (see `ping`). */
  ping(count: number): Promise<Echo[]> {
    return ping(this.a, this.ipB, count);
  }

  /** Deletes both namespaces (the veth goes with them). Safe to call twice. */
  destroy(): void {
    for (const ns of [this.a, this.b]) {
      if (existsSync(`/run/netns/${ns}`)) sh('ip', ['netns', 'del', ns]);
    }
  }
}

/** One echo reply: its sequence number and the TTL of the IP packet that carried it. */
export interface Echo {
  seq: number;
  ttl: number;
}

const IPPROTO_ICMP = 1;

function inetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let k = 0; k < b.length; k += 2) sum += (b[k]! << 8) | (b[k + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Sends `count` ICMP echo requests from namespace `ns` to `dst` through a
 * raw socket, one at a time, and waits up to `waitMs` for each reply. Resolves
 * with the replies that came back (no external ping binary needed).
 */
export async function ping(ns: string, dst: string, count: number, waitMs = 1000): Promise<Echo[]> {
  const fd = inNetns(ns, () => socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
  const id = randomBytes(2).readUInt16BE(0);
  const to = sockaddrIn(dst, 0);
  const buf = new Uint8Array(2048);
  const replies: Echo[] = [];
  try {
    for (let seq = 1; seq <= count; seq++) {
      const req = new Uint8Array(8 + 24);
      const v = new DataView(req.buffer);
      v.setUint8(0, 8); // echo request
      v.setUint16(4, id);
      v.setUint16(6, seq);
      req.set(new TextEncoder().encode('tsbpf ping payload bytes'), 8);
      v.setUint16(2, inetChecksum(req));
      sendto(fd, req, to);
      const deadline = Date.now() + waitMs;
      while (Date.now() < deadline) {
        const n = recv(fd, buf, MSG_DONTWAIT);
        if (n < 0) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const ihl = (buf[0]! & 0x0f) * 4;
        const r = new DataView(buf.buffer, ihl, n - ihl);
        if (n >= ihl + 8 && r.getUint8(0) === 0 && r.getUint16(4) === id && r.getUint16(6) === seq) {
          replies.push({ seq, ttl: buf[8]! });
          break;
        }
      }
    }
  } finally {
    closeFd(fd);
  }
  return replies;
}
