// Network attachment in the real kernel: XDP, tcx and tc (clsact) on a veth
// between two namespaces this file creates, and socket filters. Traffic
// only flows inside those namespaces, which are deleted at the end.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { TsbpfError } from '../src/errors.js';
import {
  type KernelCollection,
  KernelError,
  Link,
  LinkType,
  attachSocketFilter,
  attachTc,
  attachTcx,
  attachXdp,
  ifIndex,
  inNetns,
  loadCollection,
  probeKernel,
} from '../src/kernel/index.js';
// Raw sockets are test plumbing here, not public API.
import { AF_INET, MSG_DONTWAIT, SOCK_DGRAM, bind, getsockname, recv, sendto, sockaddrIn, sockaddrPort, socket } from '../src/kernel/socket.js';
import { closeFd } from '../src/kernel/syscall.js';
import { loadObject } from '../src/object/index.js';
import { REPO_ROOT } from './support/conformance-data.js';
import { openFds } from './support/kernel.js';
import { type Echo, VethPair, netnsUnusable } from './support/netns.js';
import { needClang, rebuildElsewhere } from './support/rebuild.js';

const OBJ = join(REPO_ROOT, 'testdata', 'attach', 'net.o');
const ICMP_ECHO = 0;
const UDP_DROPPED = 1;
const TC_REWRITTEN = 2;
const SOCK_SEEN = 3;

let skipReason: string | null = null;
let pair: VethPair | null = null;
let coll: KernelCollection | null = null;

function ready(t: TestContext): { pair: VethPair; coll: KernelCollection } | null {
  if (skipReason !== null || !pair || !coll) {
    t.skip(skipReason ?? 'setup failed');
    return null;
  }
  return { pair, coll };
}

const counter = (c: KernelCollection, slot: number): bigint => {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, slot, true);
  const v = c.map('counts').lookup(key)!;
  return new DataView(v.buffer, v.byteOffset).getBigUint64(0, true);
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A UDP socket bound inside network namespace `ns`. */
function udpSocket(ns: string, address: string): { fd: number; port: number } {
  return inNetns(ns, () => {
    const fd = socket(AF_INET, SOCK_DGRAM);
    try {
      bind(fd, sockaddrIn(address, 0));
      return { fd, port: sockaddrPort(getsockname(fd)) };
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  });
}

/** Every datagram that arrives on `fd` within `ms` (polled without blocking the event loop). */
async function drain(fd: number, ms: number, expect = Infinity): Promise<string[]> {
  const got: string[] = [];
  const buf = new Uint8Array(2048);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && got.length < expect) {
    const n = recv(fd, buf, MSG_DONTWAIT);
    if (n >= 0) got.push(new TextDecoder().decode(buf.subarray(0, n)));
    else await sleep(10);
  }
  return got;
}

function send(fd: number, to: Uint8Array, texts: readonly string[]): void {
  for (const s of texts) sendto(fd, new TextEncoder().encode(s), to);
}

const ttls = (replies: readonly Echo[]): number[] => replies.map((r) => r.ttl);

describe('network attachment (kernel)', { timeout: 30_000 }, () => {
  before(() => {
    const probe = probeKernel();
    const ns = probe.usable ? netnsUnusable() : null;
    if (!probe.usable) skipReason = `kernel eBPF not usable: ${probe.reason}`;
    else if (ns !== null) skipReason = `network namespaces not usable: ${ns}`;
    else {
      coll = loadCollection(loadObject(readFileSync(OBJ), 'net'));
      try {
        pair = VethPair.create();
      } catch (e) {
        skipReason = `could not create the veth pair: ${(e as Error).message}`;
      }
    }
    if (skipReason) console.log(`# skipping the network attach tests: ${skipReason}`);
  });

  after(() => {
    pair?.destroy();
    coll?.close();
  });

  test('XDP (bpf_link, native): pings are counted, UDP is dropped; close detaches', async (t) => {
    const r = ready(t);
    if (!r) return;
    const { pair, coll } = r;
    const prog = coll.program('xdp_count');
    const rx = udpSocket(pair.b, pair.ipB);
    const tx = udpSocket(pair.a, pair.ipA);
    try {
      const to = sockaddrIn(pair.ipB, rx.port);
      const echo0 = counter(coll, ICMP_ECHO);
      const udp0 = counter(coll, UDP_DROPPED);
      const link = attachXdp(prog, pair.ifB, { mode: 'native', netns: pair.b });
      try {
        const info = link.info();
        assert.equal(info.type, LinkType.XDP);
        assert.equal(info.typeName, 'XDP');
        assert.equal(info.ifindex, inNetns(pair.b, () => ifIndex(pair.ifB)));
        assert.ok(info.progId > 0 && info.id > 0);
        assert.match(spawnSync('ip', ['-n', pair.b, 'link', 'show', pair.ifB], { encoding: 'utf8' }).stdout, /xdp/);

        assert.equal((await pair.ping(3)).length, 3, 'three replies');
        assert.equal(counter(coll, ICMP_ECHO) - echo0, 3n, 'three echo requests counted');

        send(tx.fd, to, ['u1', 'u2', 'u3', 'u4']);
        assert.deepEqual(await drain(rx.fd, 400), [], 'no UDP datagram gets through');
        assert.equal(counter(coll, UDP_DROPPED) - udp0, 4n, 'four datagrams dropped by the program');
      } finally {
        link.close();
      }
      link.close(); // twice is fine
      assert.throws(() => link.fd, (e: unknown) => e instanceof TsbpfError && e.code === 'ECLOSED');
      assert.doesNotMatch(spawnSync('ip', ['-n', pair.b, 'link', 'show', pair.ifB], { encoding: 'utf8' }).stdout, /prog\/xdp/);

      // Detached: UDP arrives and pings are no longer counted.
      send(tx.fd, to, ['after']);
      assert.deepEqual(await drain(rx.fd, 2000, 1), ['after']);
      const echo1 = counter(coll, ICMP_ECHO);
      assert.equal((await pair.ping(2)).length, 2);
      assert.equal(counter(coll, ICMP_ECHO), echo1, 'the detached program counts nothing');
    } finally {
      closeFd(rx.fd);
      closeFd(tx.fd);
    }
  });

  test('XDP through netlink (the fallback path), with Symbol.dispose', async (t) => {
    const r = ready(t);
    if (!r) return;
    const { pair, coll } = r;
    const echo0 = counter(coll, ICMP_ECHO);
    {
      using link = attachXdp(coll.program('xdp_count'), pair.ifB, { via: 'netlink', netns: pair.b });
      assert.equal(link.kind, 'xdp');
      assert.equal(link.pinnable, false);
      assert.throws(() => link.pin('/nonexistent/x'), (e: unknown) => e instanceof TsbpfError && e.code === 'ENOTPINNABLE');
      assert.match(spawnSync('ip', ['-n', pair.b, 'link', 'show', pair.ifB], { encoding: 'utf8' }).stdout, /xdp/);
      // A second attachment is refused while the first holds the device.
      assert.throws(() => attachXdp(coll.program('xdp_count'), pair.ifB, { via: 'netlink', netns: pair.b }), KernelError);
      assert.throws(() => attachXdp(coll.program('xdp_count'), pair.ifB, { netns: pair.b }), KernelError);
      assert.equal((await pair.ping(2)).length, 2);
      assert.equal(counter(coll, ICMP_ECHO) - echo0, 2n);
    }
    assert.doesNotMatch(spawnSync('ip', ['-n', pair.b, 'link', 'show', pair.ifB], { encoding: 'utf8' }).stdout, /prog\/xdp/);
    const echo1 = counter(coll, ICMP_ECHO);
    assert.equal((await pair.ping(1)).length, 1);
    assert.equal(counter(coll, ICMP_ECHO), echo1, 'disposed: nothing counted');

    // Removed behind our back (ip link set xdp off, tc filter del): close() has nothing left to do.
    const xdpLink = attachXdp(coll.program('xdp_count'), pair.ifB, { via: 'netlink', netns: pair.b });
    assert.equal(spawnSync('ip', ['-n', pair.b, 'link', 'set', 'dev', pair.ifB, 'xdp', 'off']).status, 0);
    xdpLink.close();
    const tcLink = attachTc(coll.program('tc_ttl'), pair.ifB, 'ingress', { netns: pair.b });
    assert.equal(spawnSync('tc', ['-n', pair.b, 'filter', 'del', 'dev', pair.ifB, 'ingress']).status, 0);
    tcLink.close();
    const tcLink2 = attachTc(coll.program('tc_ttl'), pair.ifB, 'ingress', { netns: pair.b });
    assert.equal(spawnSync('tc', ['-n', pair.b, 'qdisc', 'del', 'dev', pair.ifB, 'clsact']).status, 0);
    tcLink2.close();
  });

  test('a pinned XDP link outlives its fd; removing the pin detaches it', async (t) => {
    const r = ready(t);
    if (!r) return;
    const { pair, coll } = r;
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bpffs-'));
    const m = spawnSync('mount', ['-t', 'bpf', 'bpf', dir], { encoding: 'utf8' });
    if (m.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      t.skip(`cannot mount a bpffs: ${m.stderr.trim()}`);
      return;
    }
    try {
      const pin = join(dir, 'xdp_link');
      const link = attachXdp(coll.program('xdp_count'), pair.ifB, { netns: pair.b });
      const id = link.info().id;
      link.pin(pin);
      link.close();
      const echo0 = counter(coll, ICMP_ECHO);
      assert.equal((await pair.ping(1)).length, 1);
      assert.equal(counter(coll, ICMP_ECHO) - echo0, 1n, 'still attached through the pin');
      {
        using again = Link.fromPin(pin);
        assert.equal(again.info().id, id);
      }
      unlinkSync(pin);
      // The kernel drops the pin's last reference asynchronously (after an RCU grace period).
      const xdpOn = (): boolean => /prog\/xdp/.test(spawnSync('ip', ['-n', pair.b, 'link', 'show', pair.ifB], { encoding: 'utf8' }).stdout);
      for (let k = 0; k < 100 && xdpOn(); k++) await sleep(20);
      assert.equal(xdpOn(), false, 'detached within 2 s of removing the pin');
      const echo1 = counter(coll, ICMP_ECHO);
      assert.equal((await pair.ping(1)).length, 1);
      assert.equal(counter(coll, ICMP_ECHO), echo1, 'unpinned and closed: detached');
    } finally {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('tcx egress and a clsact tc filter rewrite the TTL the pinger sees (checksum fixed)', async (t) => {
    const r = ready(t);
    if (!r) return;
    const { pair, coll } = r;
    const prog = coll.program('tc_ttl');
    assert.deepEqual(ttls(await pair.ping(1)), [64]);

    for (const attach of [
      () => attachTcx(prog, pair.ifB, 'egress', { netns: pair.b, via: 'link' }),
      () => attachTc(prog, pair.ifB, 'egress', { netns: pair.b }),
    ]) {
      const n0 = counter(coll, TC_REWRITTEN);
      const link = attach();
      try {
        // The replies leave b through the program; a bad IP checksum would make a lose them.
        assert.deepEqual(ttls(await pair.ping(2)), [77, 77], link.kind);
        assert.ok(counter(coll, TC_REWRITTEN) - n0 >= 2n);
        if (link.kind === 'tcx') {
          const info = link.info();
          assert.equal(info.type, LinkType.TCX);
          assert.equal(info.attachType, 47);
        } else {
          assert.match(spawnSync('tc', ['-n', pair.b, 'filter', 'show', 'dev', pair.ifB, 'egress'], { encoding: 'utf8' }).stdout, /tc_ttl/);
        }
      } finally {
        link.close();
      }
      assert.deepEqual(ttls(await pair.ping(1)), [64], `${link.kind} detached`);
    }
    assert.equal(spawnSync('tc', ['-n', pair.b, 'filter', 'show', 'dev', pair.ifB, 'egress'], { encoding: 'utf8' }).stdout.trim(), '');
  });

  test('socket filter keeps only the datagrams it accepts; close removes it', async (t) => {
    const r = ready(t);
    if (!r) return;
    const { pair, coll } = r;
    // Loopback of namespace a: the datagrams never leave it.
    const rx = udpSocket(pair.a, '127.0.0.1');
    const tx = udpSocket(pair.a, '127.0.0.1');
    try {
      const to = sockaddrIn('127.0.0.1', rx.port);
      const seen0 = counter(coll, SOCK_SEEN);
      const link = attachSocketFilter(coll.program('sock_keep'), rx);
      try {
        send(tx.fd, to, ['K1', 'drop1', 'K2', 'drop2', 'K3']);
        assert.deepEqual(await drain(rx.fd, 500), ['K1', 'K2', 'K3']);
        assert.equal(counter(coll, SOCK_SEEN) - seen0, 5n);
      } finally {
        link.close();
      }
      send(tx.fd, to, ['drop3']);
      assert.deepEqual(await drain(rx.fd, 2000, 1), ['drop3'], 'the filter is gone');
      assert.throws(() => attachSocketFilter(coll.program('sock_keep'), 987654), KernelError);
    } finally {
      closeFd(rx.fd);
      closeFd(tx.fd);
    }
  });

  test('bad arguments are typed errors', (t) => {
    const r = ready(t);
    if (!r) return;
    const prog = r.coll.program('xdp_count');
    const code = (c: string) => (e: unknown) => e instanceof TsbpfError && e.code === c;
    assert.throws(() => attachXdp(prog, 'no-such-dev0'), code('ENODEV'));
    assert.throws(() => attachXdp(prog, -1), code('ENODEV'));
    assert.throws(() => attachXdp(prog, 'lo', { mode: 'turbo' as 'native' }), code('EATTACHARG'));
    assert.throws(() => attachTcx(r.coll.program('tc_ttl'), 'lo', 'sideways' as 'ingress'), code('EATTACHARG'));
    assert.throws(() => attachXdp(prog, 'lo', { netns: 'tsbpf-no-such-netns' }), code('ENETNS'));
    // The wrong program type for the hook is named before the kernel is asked.
    assert.throws(() => attachXdp(r.coll.program('tc_ttl'), r.pair.ifB, { netns: r.pair.b }), (e: unknown) =>
      code('EPROGTYPE')(e) && /has type SCHED_CLS; XDP takes XDP programs/.test((e as Error).message));
    assert.throws(() => attachTcx(prog, r.pair.ifB, 'ingress', { netns: r.pair.b }), code('EPROGTYPE'));
    assert.throws(() => attachTc(prog, r.pair.ifB, 'ingress', { netns: r.pair.b }), code('EPROGTYPE'));
    assert.throws(() => attachSocketFilter(prog, 0), code('EPROGTYPE'));
    // A mode the device lacks: the kernel's refusal, with its reason.
    assert.throws(() => attachXdp(prog, r.pair.ifB, { netns: r.pair.b, mode: 'offload', via: 'link' }), (e: unknown) =>
      e instanceof KernelError && e.command === 'BPF_LINK_CREATE' && e.errnoName === 'EINVAL');
    assert.throws(() => attachXdp(prog, 'lo', { netns: r.pair.b, mode: 'native' }), (e: unknown) =>
      e instanceof KernelError && e.errnoName === 'EOPNOTSUPP' && /native mode/.test(e.message));
  });

  test('no fd leaks over 200 attach/close cycles of each kind', (t) => {
    const r = ready(t);
    if (!r) return;
    const { pair, coll } = r;
    const xdp = coll.program('xdp_count');
    const tc = coll.program('tc_ttl');
    const sock = udpSocket(pair.a, '127.0.0.1');
    try {
      // Each XDP or tcx detach waits for an RCU grace period (~25 ms here), so the 200 are a mix.
      const cycle = (n: { xdp: number; tcx: number; xdpNl: number; tc: number; sock: number }): void => {
        inNetns(pair.b, () => {
          for (let k = 0; k < n.xdp; k++) attachXdp(xdp, pair.ifB).close();
          for (let k = 0; k < n.tcx; k++) attachTcx(tc, pair.ifB, k % 2 ? 'ingress' : 'egress').close();
          for (let k = 0; k < n.xdpNl; k++) attachXdp(xdp, pair.ifB, { via: 'netlink' }).close();
          for (let k = 0; k < n.tc; k++) attachTc(tc, pair.ifB, k % 2 ? 'ingress' : 'egress').close();
        });
        for (let k = 0; k < n.sock; k++) attachSocketFilter(coll.program('sock_keep'), sock.fd).close();
      };
      cycle({ xdp: 1, tcx: 1, xdpNl: 1, tc: 1, sock: 1 }); // warm-up: lazily declared FFI functions and the like
      const before = openFds();
      const t0 = Date.now();
      cycle({ xdp: 40, tcx: 40, xdpNl: 20, tc: 40, sock: 60 });
      assert.equal(openFds(), before, 'fd count unchanged');
      t.diagnostic(`200 attach/close cycles took ${Date.now() - t0} ms`);
    } finally {
      closeFd(sock.fd);
    }
  });

  test('testdata/attach/build.sh rebuilds net.o byte for byte (when clang-19 is installed)', (t) => {
    if (!needClang(t)) return;
    rebuildElsewhere('attach', ['net.c'], (dir) => {
      assert.ok(readFileSync(join(dir, 'net.o')).equals(readFileSync(OBJ)), 'net.o differs from its rebuild');
    });
  });
});
