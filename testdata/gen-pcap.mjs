#!/usr/bin/env node
// Writes the shipped sample captures mixed.pcap and mixed.pcapng: the same
// few hundred Ethernet frames of mixed traffic, made from a fixed seed, so
// running this again gives byte-identical files. Plain Node, no packages.
//
//   node testdata/gen-pcap.mjs [OUTDIR]     (default: this script's folder)
//
// The traffic (all addresses private or documentation ranges):
//  - IPv4 TCP sessions to ports 22, 80, 443, 8080 and 5432 (handshake,
//    request, full-size response segments, FIN), refused connections (RST)
//    and a SYN scan from 198.51.100.0/24;
//  - IPv4 UDP: DNS to port 53, NTP, syslog, a "game" protocol with large
//    datagrams, one datagram with an IP option (IHL 6);
//  - ICMP echo requests and replies (empty, 56-byte and 1400-byte payloads);
//  - IPv6 TCP and UDP (DNS) sessions, ICMPv6 echo, neighbour solicitation
//    and advertisement;
//  - ARP requests and replies; 802.1Q (VLAN 100) tagged DNS, ARP and TCP;
//  - control datagrams for testdata/progs/xdp_firewall.c (UDP to port 9999,
//    payload {be32 prefixlen; u8 addr[4]}) that block 198.51.100.0/24 and
//    then 203.0.113.64/26, plus two malformed ones; traffic from both
//    prefixes comes before and after the rule that blocks it.
// Frames below 60 bytes are zero-padded to 60 (the IP length stays exact).
// Every IPv4 header, TCP, UDP, ICMP and ICMPv6 checksum is correct.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------- PRNG ----
// mulberry32: a tiny 32-bit PRNG; plenty for test traffic.
let prngState = 0x7473627f;
function rand() {
  prngState = (prngState + 0x6d2b79f5) >>> 0;
  let t = prngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
function randBytes(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = randInt(0, 255);
  return b;
}
function textBytes(n) {
  const words = ['lorem', 'ipsum', 'dolor', 'sit', 'amet', 'tsbpf', 'packet', 'filter', 'verifier', 'map'];
  let s = '';
  while (s.length < n) s += pick(words) + (rand() < 0.1 ? '\n' : ' ');
  return ascii(s.slice(0, n));
}

// ------------------------------------------------------------- bytes ----
const ascii = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const be16 = (v) => Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
const be32 = (v) => Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);

function checksum(...parts) {
  const b = concat(...parts);
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const mac = (s) => Uint8Array.from(s.split(':'), (h) => parseInt(h, 16));
const ip4 = (s) => Uint8Array.from(s.split('.'), Number);
function ip6(s) {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return concat(...groups.map((g) => be16(parseInt(g, 16))));
}

// ----------------------------------------------------------- headers ----
const ETH_IP = 0x0800, ETH_ARP = 0x0806, ETH_VLAN = 0x8100, ETH_IP6 = 0x86dd;
const P_ICMP = 1, P_TCP = 6, P_UDP = 17, P_ICMP6 = 58;

function ethernet(dst, src, type, payload, vlan) {
  const tag = vlan === undefined ? new Uint8Array(0) : concat(be16(ETH_VLAN), be16(vlan & 0x0fff));
  const frame = concat(dst, src, tag, be16(type), payload);
  if (frame.length >= 60) return frame;
  return concat(frame, new Uint8Array(60 - frame.length));
}

const ipIds = new Map();
function ipv4(src, dst, proto, l4, { ttl = 64, tos = 0, df = true, options = new Uint8Array(0) } = {}) {
  const key = src.join('.');
  const id = ipIds.get(key) ?? randInt(0, 0xffff);
  ipIds.set(key, (id + 1) & 0xffff);
  const ihl = 5 + options.length / 4;
  const h = concat(
    Uint8Array.of(0x40 | ihl, tos), be16(ihl * 4 + l4.length), be16(id), be16(df ? 0x4000 : 0),
    Uint8Array.of(ttl, proto), be16(0), src, dst, options,
  );
  h.set(be16(checksum(h)), 10);
  return concat(h, l4);
}

function ipv6(src, dst, nh, l4, { hlim = 64 } = {}) {
  return concat(be32(0x60000000), be16(l4.length), Uint8Array.of(nh, hlim), src, dst, l4);
}

function pseudo(src, dst, proto, len) {
  return src.length === 4
    ? concat(src, dst, Uint8Array.of(0, proto), be16(len))
    : concat(src, dst, be32(len), Uint8Array.of(0, 0, 0, proto));
}

const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;
function tcp(src, dst, sport, dport, seq, ack, flags, payload = new Uint8Array(0), options = new Uint8Array(0), win = 64240) {
  const doff = 5 + options.length / 4;
  const h = concat(be16(sport), be16(dport), be32(seq >>> 0), be32(ack >>> 0),
    Uint8Array.of(doff << 4, flags), be16(win), be16(0), be16(0), options);
  const seg = concat(h, payload);
  seg.set(be16(checksum(pseudo(src, dst, P_TCP, seg.length), seg)), 16);
  return seg;
}

function udp(src, dst, sport, dport, payload) {
  const seg = concat(be16(sport), be16(dport), be16(8 + payload.length), be16(0), payload);
  const c = checksum(pseudo(src, dst, P_UDP, seg.length), seg);
  seg.set(be16(c === 0 ? 0xffff : c), 6);
  return seg;
}

function icmp4(type, code, rest) {
  const m = concat(Uint8Array.of(type, code), be16(0), rest);
  m.set(be16(checksum(m)), 2);
  return m;
}

function icmp6(src, dst, type, code, rest) {
  const m = concat(Uint8Array.of(type, code), be16(0), rest);
  m.set(be16(checksum(pseudo(src, dst, P_ICMP6, m.length), m)), 2);
  return m;
}

function arp(op, sha, spa, tha, tpa) {
  return concat(be16(1), be16(ETH_IP), Uint8Array.of(6, 4), be16(op), sha, spa, tha, tpa);
}

// ------------------------------------------------------------- hosts ----
const GW_MAC = mac('02:00:5e:00:00:01');
const BCAST = mac('ff:ff:ff:ff:ff:ff');
const host = (n) => ({ mac: mac(`02:00:5e:00:01:${n.toString(16).padStart(2, '0')}`) });
const H = {
  admin: { ...host(1), ip: ip4('10.0.0.1') },
  fw: { ...host(2), ip: ip4('10.0.0.2') },
  gw: { mac: GW_MAC, ip: ip4('10.0.0.254') },
  c1: { ...host(10), ip: ip4('10.0.0.10'), ip6: ip6('2001:db8:1::10') },
  c2: { ...host(11), ip: ip4('10.0.0.11'), ip6: ip6('2001:db8:1::11') },
  c3: { ...host(12), ip: ip4('192.168.1.23') },
  vl: { ...host(40), ip: ip4('172.16.100.40') },
  vlsrv: { ...host(41), ip: ip4('172.16.100.1') },
};
// Remote hosts are reached through the gateway's MAC.
const remote = (ip) => ({ mac: GW_MAC, ip: ip4(ip) });
const R = {
  web: remote('192.0.2.80'),
  dns: remote('192.0.2.53'),
  ntp: remote('192.0.2.123'),
  ssh: remote('203.0.113.5'),
  db: remote('172.16.5.5'),
  game: remote('192.0.2.200'),
  log: remote('10.9.9.9'),
  scanA: remote('198.51.100.7'),
  scanB: remote('198.51.100.66'),
  badC: remote('203.0.113.70'),
  badD: remote('203.0.113.100'),
  web6: { mac: GW_MAC, ip6: ip6('2001:db8:2::80') },
  dns6: { mac: GW_MAC, ip6: ip6('2001:db8:2::53') },
};

// ------------------------------------------------------ conversations ----
// A conversation is a list of frames in order; the scheduler interleaves them.

function tcpSession(a, b, sport, dport, request, responses, { v6 = false, ttl = 64, vlan } = {}) {
  const sa = v6 ? a.ip6 : a.ip, sb = v6 ? b.ip6 : b.ip;
  const wrap = (from, to, seg) => v6
    ? ethernet(to.mac, from.mac, ETH_IP6, ipv6(from === a ? sa : sb, from === a ? sb : sa, P_TCP, seg), vlan)
    : ethernet(to.mac, from.mac, ETH_IP, ipv4(from === a ? sa : sb, from === a ? sb : sa, P_TCP, seg, { ttl }), vlan);
  const seg = (from, ...args) => from === a ? tcp(sa, sb, sport, dport, ...args) : tcp(sb, sa, dport, sport, ...args);
  const synOpts = concat(Uint8Array.of(2, 4), be16(v6 ? 1440 : 1460), Uint8Array.of(1, 3, 3, 7, 4, 2, 1, 1));
  let ca = randInt(0, 0xffffffff), cb = randInt(0, 0xffffffff);
  const out = [];
  out.push(wrap(a, b, seg(a, ca, 0, SYN, undefined, synOpts)));
  ca = (ca + 1) >>> 0;
  out.push(wrap(b, a, seg(b, cb, ca, SYN | ACK, undefined, synOpts, 65160)));
  cb = (cb + 1) >>> 0;
  out.push(wrap(a, b, seg(a, ca, cb, ACK)));
  if (request.length) {
    out.push(wrap(a, b, seg(a, ca, cb, PSH | ACK, request)));
    ca = (ca + request.length) >>> 0;
  }
  let unacked = 0;
  for (const [i, r] of responses.entries()) {
    out.push(wrap(b, a, seg(b, cb, ca, i === responses.length - 1 ? PSH | ACK : ACK, r)));
    cb = (cb + r.length) >>> 0;
    if (++unacked === 2 || i === responses.length - 1) {
      out.push(wrap(a, b, seg(a, ca, cb, ACK)));
      unacked = 0;
    }
  }
  out.push(wrap(a, b, seg(a, ca, cb, FIN | ACK)));
  ca = (ca + 1) >>> 0;
  out.push(wrap(b, a, seg(b, cb, ca, FIN | ACK)));
  cb = (cb + 1) >>> 0;
  out.push(wrap(a, b, seg(a, ca, cb, ACK)));
  return out;
}

function tcpRefused(a, b, sport, dport) {
  const isn = randInt(0, 0xffffffff);
  return [
    ethernet(b.mac, a.mac, ETH_IP, ipv4(a.ip, b.ip, P_TCP, tcp(a.ip, b.ip, sport, dport, isn, 0, SYN))),
    ethernet(a.mac, b.mac, ETH_IP, ipv4(b.ip, a.ip, P_TCP, tcp(b.ip, a.ip, dport, sport, 0, isn + 1, RST | ACK), { ttl: 64 })),
  ];
}

/** A SYN scan from `scanner` against `target`: SYNs only, no answers (they are filtered upstream). */
function synScan(scanner, target, ports) {
  return ports.map((p) => ethernet(target.mac, scanner.mac, ETH_IP, ipv4(scanner.ip, target.ip, P_TCP,
    tcp(scanner.ip, target.ip, randInt(40000, 60000), p, randInt(0, 0xffffffff), 0, SYN, undefined, undefined, 1024), { ttl: 49, df: false })));
}

function dnsName(name) {
  return concat(...name.split('.').map((l) => concat(Uint8Array.of(l.length), ascii(l))), Uint8Array.of(0));
}

function dnsExchange(client, server, name, { v6 = false, vlan, aaaa = false } = {}) {
  const id = randInt(0, 0xffff), sport = randInt(32768, 60999);
  const qtype = aaaa ? 28 : 1;
  const question = concat(dnsName(name), be16(qtype), be16(1));
  const query = concat(be16(id), be16(0x0100), be16(1), be16(0), be16(0), be16(0), question);
  const rdata = aaaa ? ip6('2001:db8:2::80') : ip4('192.0.2.80');
  const answer = concat(be16(0xc00c), be16(qtype), be16(1), be32(300), be16(rdata.length), rdata);
  const reply = concat(be16(id), be16(0x8180), be16(1), be16(1), be16(0), be16(0), question, answer);
  if (v6) {
    return [
      ethernet(server.mac, client.mac, ETH_IP6, ipv6(client.ip6, server.ip6, P_UDP, udp(client.ip6, server.ip6, sport, 53, query))),
      ethernet(client.mac, server.mac, ETH_IP6, ipv6(server.ip6, client.ip6, P_UDP, udp(server.ip6, client.ip6, 53, sport, reply))),
    ];
  }
  return [
    ethernet(server.mac, client.mac, ETH_IP, ipv4(client.ip, server.ip, P_UDP, udp(client.ip, server.ip, sport, 53, query), { df: false }), vlan),
    ethernet(client.mac, server.mac, ETH_IP, ipv4(server.ip, client.ip, P_UDP, udp(server.ip, client.ip, 53, sport, reply), { df: false }), vlan),
  ];
}

function udpOneWay(a, b, sport, dport, payload, opts = {}) {
  return ethernet(b.mac, a.mac, ETH_IP, ipv4(a.ip, b.ip, P_UDP, udp(a.ip, b.ip, sport, dport, payload), { df: false, ...opts }));
}

function ntp(client, server) {
  const req = concat(Uint8Array.of(0x23, 0, 6, 0xe9), new Uint8Array(36), randBytes(8));
  const resp = concat(Uint8Array.of(0x24, 2, 6, 0xe9), randBytes(44));
  return [udpOneWay(client, server, 123, 123, req), udpOneWay(server, client, 123, 123, resp)];
}

function ping(a, b, count, size) {
  const id = randInt(1, 0xffff), out = [];
  for (let seq = 1; seq <= count; seq++) {
    const data = concat(...Array.from({ length: size }, (_, i) => Uint8Array.of((i + 0x10) & 0xff)));
    const rest = concat(be16(id), be16(seq), data);
    out.push(ethernet(b.mac, a.mac, ETH_IP, ipv4(a.ip, b.ip, P_ICMP, icmp4(8, 0, rest))));
    out.push(ethernet(a.mac, b.mac, ETH_IP, ipv4(b.ip, a.ip, P_ICMP, icmp4(0, 0, rest), { ttl: 57 })));
  }
  return out;
}

function ping6(a, b, count) {
  const id = randInt(1, 0xffff), out = [];
  for (let seq = 1; seq <= count; seq++) {
    const rest = concat(be16(id), be16(seq), randBytes(56));
    out.push(ethernet(b.mac, a.mac, ETH_IP6, ipv6(a.ip6, b.ip6, P_ICMP6, icmp6(a.ip6, b.ip6, 128, 0, rest))));
    out.push(ethernet(a.mac, b.mac, ETH_IP6, ipv6(b.ip6, a.ip6, P_ICMP6, icmp6(b.ip6, a.ip6, 129, 0, rest), { hlim: 58 })));
  }
  return out;
}

function neighbour6(a, target) {
  // Solicited-node multicast address and its MAC.
  const t = target.ip6;
  const snm = concat(ip6('ff02::1:ff00:0').subarray(0, 13), t.subarray(13));
  const snmMac = concat(Uint8Array.of(0x33, 0x33), snm.subarray(12));
  const lladdr = (m) => concat(Uint8Array.of(1, 1), m);
  const ns = icmp6(a.ip6, snm, 135, 0, concat(be32(0), t, lladdr(a.mac)));
  const na = icmp6(t, a.ip6, 136, 0, concat(be32(0x60000000), t, Uint8Array.of(2, 1), target.mac));
  return [
    ethernet(snmMac, a.mac, ETH_IP6, ipv6(a.ip6, snm, P_ICMP6, ns, { hlim: 255 })),
    ethernet(a.mac, target.mac, ETH_IP6, ipv6(t, a.ip6, P_ICMP6, na, { hlim: 255 })),
  ];
}

function arpExchange(a, b, vlan) {
  return [
    ethernet(BCAST, a.mac, ETH_ARP, arp(1, a.mac, a.ip, new Uint8Array(6), b.ip), vlan),
    ethernet(a.mac, b.mac, ETH_ARP, arp(2, b.mac, b.ip, a.mac, a.ip), vlan),
  ];
}

/** A control datagram for xdp_firewall.c: payload {be32 prefixlen; u8 addr[4]}. */
function firewallRule(prefixlen, addr, payload = concat(be32(prefixlen), ip4(addr))) {
  return [udpOneWay(H.admin, H.fw, 40000, 9999, payload)];
}

const http = (path) => ascii(`GET ${path} HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: tsbpf-gen/1\r\nAccept: */*\r\n\r\n`);
function httpResponse(bodyLen) {
  const body = textBytes(bodyLen);
  const head = ascii(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${bodyLen}\r\n\r\n`);
  const all = concat(head, body);
  const segs = [];
  for (let o = 0; o < all.length; o += 1448) segs.push(all.subarray(o, Math.min(all.length, o + 1448)));
  return segs;
}
const tlsRecords = (sizes) => sizes.map((n) => concat(Uint8Array.of(0x17, 3, 3), be16(n - 5), randBytes(n - 5)));

// ---------------------------------------------------------- scenario ----
function phase(convos) {
  // Interleave: repeatedly take the next frame of a random unfinished conversation.
  const live = convos.filter((c) => c.length).map((c) => [...c]);
  const out = [];
  while (live.length) {
    const i = Math.floor(rand() * live.length);
    out.push(live[i].shift());
    if (!live[i].length) live.splice(i, 1);
  }
  return out;
}

function web(client, dport, bodyLen, opts) {
  return tcpSession(client, opts?.v6 ? R.web6 : R.web, randInt(32768, 60999), dport, http(`/item/${randInt(1, 999)}`), httpResponse(bodyLen), opts);
}
function tls(client, sizes, opts) {
  return tcpSession(client, opts?.v6 ? R.web6 : R.web, randInt(32768, 60999), 443, tlsRecords([517])[0], tlsRecords(sizes), opts);
}
function ssh(client) {
  return tcpSession(client, R.ssh, randInt(32768, 60999), 22, ascii('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'),
    [ascii('SSH-2.0-OpenSSH_9.6\r\n'), randBytes(1080), randBytes(180)]);
}
function game(a, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(udpOneWay(a, R.game, 27015, 5000, randBytes(pick([24, 64, 200, 1200]))));
  return out;
}

const frames = [
  ...phase([
    arpExchange(H.c1, H.gw),
    dnsExchange(H.c1, R.dns, 'www.example.test'),
    web(H.c1, 80, 3000),
    tls(H.c2, [1400, 1400, 900]),
    ssh(H.c3),
    ping(H.c1, R.web, 3, 56),
    ntp(H.c2, R.ntp),
    synScan(R.scanA, H.c1, [21, 22, 23, 80, 443, 3389]),
    tcpRefused(R.badC, H.c2, 51000, 23),
    game(H.c3, 6),
    neighbour6(H.c1, { mac: GW_MAC, ip6: ip6('2001:db8:1::1') }),
    dnsExchange(H.c1, R.dns6, 'www.example.test', { v6: true, aaaa: true }),
    dnsExchange(H.c2, R.dns, 'mail.example.test'),
    dnsExchange(H.c3, R.dns, 'cdn.example.net'),
    web(H.c2, 80, 4200),
    [udpOneWay(R.scanA, H.c1, 53, 40001, randBytes(48))],
  ]),
  ...firewallRule(24, '198.51.100.0'),
  ...phase([
    web(H.c2, 8080, 1800),
    web(H.c1, 80, 600, { v6: true }),
    tls(H.c1, [1200, 300], { v6: true }),
    tcpSession(H.c3, R.db, randInt(32768, 60999), 5432, randBytes(90), [randBytes(400), randBytes(1448)]),
    synScan(R.scanA, H.c2, [22, 80, 443, 8080]),
    synScan(R.scanB, H.c1, [25, 53, 110]),
    tcpRefused(R.badD, H.c1, 52000, 3389),
    ping(H.c2, R.dns, 2, 0),
    ping(H.c1, R.ssh, 1, 1400),
    ping6(H.c2, R.web6, 3),
    dnsExchange(H.vl, H.vlsrv, 'printer.internal.example', { vlan: 100 }),
    arpExchange(H.vl, H.vlsrv, 100),
    [udpOneWay(H.c2, remote('10.0.0.255'), 5000, 5000, textBytes(40), { ttl: 1, options: Uint8Array.of(0x94, 4, 0, 0) })],
    [udpOneWay(H.c3, R.log, 514, 514, ascii('<134>Nov 14 22:13:20 host app[42]: tsbpf sample syslog line'))],
    game(H.c1, 5),
    dnsExchange(H.c3, R.dns, 'static.example.test'),
    ping(H.c3, R.game, 2, 56),
    tls(H.c2, [1400, 1400, 1400, 1400, 600]),
  ]),
  ...firewallRule(26, '203.0.113.64'),
  ...firewallRule(40, '10.0.0.0'),
  ...firewallRule(0, '0.0.0.0', be32(8)),
  ...phase([
    web(H.c1, 80, 5000),
    ssh(H.c2),
    tls(H.c3, [1400, 1400, 1400, 200]),
    tcpSession(H.vl, H.vlsrv, 40022, 22, ascii('SSH-2.0-probe\r\n'), [ascii('SSH-2.0-OpenSSH_9.6\r\n')], { vlan: 100 }),
    synScan(R.scanB, H.c1, [22, 80, 443]),
    tcpRefused(R.badC, H.c1, 51111, 445),
    tcpRefused(R.badD, H.c2, 52222, 139),
    [udpOneWay(R.badC, H.c1, 53, 33333, randBytes(30))],
    dnsExchange(H.c2, R.dns, 'api.example.test'),
    dnsExchange(H.c2, R.dns6, 'api.example.test', { v6: true, aaaa: true }),
    ping(H.c3, R.web, 2, 56),
    ping6(H.c1, R.dns6, 2),
    ntp(H.c1, R.ntp),
    arpExchange(H.c2, H.gw),
    game(H.c2, 5),
    web(H.c3, 8080, 2500),
  ]),
  ...phase([
    tls(H.c1, [1400, 1400, 700]),
    web(H.c2, 80, 1200, { v6: true }),
    tcpSession(H.c1, R.db, randInt(32768, 60999), 5432, randBytes(120), [randBytes(1448), randBytes(1448), randBytes(300)]),
    tcpRefused(H.c3, R.web, 50505, 8443),
    synScan(R.scanA, H.c3, [22, 443]),
    dnsExchange(H.c1, R.dns, 'www.example.test'),
    dnsExchange(H.vl, H.vlsrv, 'nas.internal.example', { vlan: 100 }),
    ping(H.c1, R.web, 4, 56),
    ping6(H.c2, R.dns6, 2),
    neighbour6(H.c2, { mac: GW_MAC, ip6: ip6('2001:db8:1::1') }),
    arpExchange(H.c3, H.gw),
    ntp(H.c3, R.ntp),
    game(H.c3, 8),
  ]),
];

// ----------------------------------------------------------- writers ----
const T0 = 1700000000n * 1000000n; // microseconds since the epoch
let t = T0;
const packets = frames.map((data) => {
  t += BigInt(randInt(20, 15000));
  return { data, tsUs: t };
});

function le(bytesPerField, values) {
  const out = [];
  for (const [size, v] of bytesPerField.map((s, i) => [s, values[i]])) {
    let x = BigInt(v);
    for (let i = 0; i < size; i++) {
      out.push(Number(x & 0xffn));
      x >>= 8n;
    }
  }
  return Uint8Array.from(out);
}

function pcap() {
  const parts = [le([4, 2, 2, 4, 4, 4, 4], [0xa1b2c3d4, 2, 4, 0, 0, 262144, 1])];
  for (const p of packets) {
    parts.push(le([4, 4, 4, 4], [p.tsUs / 1000000n, p.tsUs % 1000000n, p.data.length, p.data.length]), p.data);
  }
  return concat(...parts);
}

const pad4 = (b) => concat(b, new Uint8Array((4 - (b.length % 4)) % 4));
function option(code, value) {
  return concat(le([2, 2], [code, value.length]), pad4(value));
}
const endOfOptions = () => le([2, 2], [0, 0]);
function block(type, body) {
  const len = 12 + body.length;
  return concat(le([4, 4], [type, len]), body, le([4], [len]));
}

function pcapng() {
  const shb = block(0x0a0d0d0a, concat(
    le([4, 2, 2, 8], [0x1a2b3c4d, 1, 0, 0xffffffffffffffffn]),
    option(4, ascii('tsbpf testdata/gen-pcap.mjs')), endOfOptions()));
  const idb = block(1, concat(le([2, 2, 4], [1, 0, 262144]),
    option(2, ascii('eth0')), option(9, Uint8Array.of(9)), endOfOptions()));
  // A name resolution block, which readers that only want packets skip.
  const nrb = block(4, concat(le([2, 2], [1, 4 + 17]), pad4(concat(ip4('192.0.2.80'), ascii('www.example.test\0'))), le([2, 2], [0, 0])));
  const epbs = packets.map((p) => {
    const ns = p.tsUs * 1000n;
    return block(6, concat(le([4, 4, 4, 4, 4], [0, ns >> 32n, ns & 0xffffffffn, p.data.length, p.data.length]), pad4(p.data)));
  });
  // Interface statistics at the end: packets received.
  const last = packets[packets.length - 1].tsUs * 1000n;
  const isb = block(5, concat(le([4, 4, 4], [0, last >> 32n, last & 0xffffffffn]),
    option(4, le([8], [packets.length])), endOfOptions()));
  return concat(shb, idb, nrb, ...epbs, isb);
}

const outDir = process.argv[2] ?? dirname(fileURLToPath(import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'mixed.pcap'), pcap());
writeFileSync(join(outDir, 'mixed.pcapng'), pcapng());
console.log(`wrote ${packets.length} frames to ${join(outDir, 'mixed.pcap')} and mixed.pcapng`);
