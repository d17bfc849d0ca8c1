/**
 * The libc calls that network attachment needs (sockets, setsockopt,
 * if_nametoindex, setns, fcntl), declared on first use through the bpf(2)
 * FFI in syscall.ts. Each wrapper throws a `KernelError` named after the
 * call when it fails.
 */
import { TsbpfError } from '../errors.js';
import { KernelError } from './errors.js';
import { type Ffi, loadFfi } from './syscall.js';

export const AF_INET = 2;
export const AF_NETLINK = 16;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_DETACH_BPF = 27;
export const SO_ATTACH_BPF = 50;
/** `SO_RCVTIMEO` with a 64-bit `struct timeval` (the _OLD name on 64-bit targets). */
export const SO_RCVTIMEO = 20;
export const MSG_DONTWAIT = 0x40;
export const EAGAIN = 11;
const F_DUPFD_CLOEXEC = 1030;
const CLONE_NEWNET = 0x40000000;

interface NetCalls {
  koffi: Ffi['koffi'];
  socket: (domain: number, type: number, protocol: number) => number;
  setsockopt: (fd: number, level: number, name: number, value: Uint8Array, len: number) => number;
  bind: (fd: number, addr: Uint8Array, len: number) => number;
  getsockname: (fd: number, addr: Uint8Array, len: Uint32Array) => number;
  sendto: (fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array | null, alen: number) => number | bigint;
  recv: (fd: number, buf: Uint8Array, len: number, flags: number) => number | bigint;
  ifNameToIndex: (name: string) => number;
  setns: (fd: number, nstype: number) => number;
  fcntl: (fd: number, cmd: number, ...rest: unknown[]) => number;
}

let calls: NetCalls | undefined;

function net(): NetCalls {
  if (calls) return calls;
  const { koffi, libc } = loadFfi();
  calls = {
    koffi,
    socket: libc.func('int socket(int, int, int)') as NetCalls['socket'],
    setsockopt: libc.func('int setsockopt(int, int, int, void *, uint32_t)') as NetCalls['setsockopt'],
    bind: libc.func('int bind(int, void *, uint32_t)') as NetCalls['bind'],
    getsockname: libc.func('int getsockname(int, void *, _Inout_ uint32_t *)') as NetCalls['getsockname'],
    sendto: libc.func('long sendto(int, void *, size_t, int, void *, uint32_t)') as NetCalls['sendto'],
    recv: libc.func('long recv(int, void *, size_t, int)') as NetCalls['recv'],
    ifNameToIndex: libc.func('uint32_t if_nametoindex(const char *)') as NetCalls['ifNameToIndex'],
    setns: libc.func('int setns(int, int)') as NetCalls['setns'],
    fcntl: libc.func('int fcntl(int, int, ...)') as NetCalls['fcntl'],
  };
  return calls;
}

function check(ret: number | bigint, call: string, detail?: string): number {
  const n = Number(ret);
  if (n < 0) throw new KernelError(call, net().koffi.errno(), '', detail);
  return n;
}

/** socket(2); the fd is close-on-exec. */
export function socket(domain: number, type: number, protocol = 0): number {
  return check(net().socket(domain, type | SOCK_CLOEXEC, protocol), 'socket');
}

/** setsockopt(2) with a raw option value. */
export function setsockopt(fd: number, level: number, name: number, value: Uint8Array, what?: string): void {
  check(net().setsockopt(fd, level, name, value, value.byteLength), 'setsockopt', what);
}

/** setsockopt(2) with a 32-bit int value. */
export function setsockoptInt(fd: number, level: number, name: number, value: number, what?: string): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  setsockopt(fd, level, name, b, what);
}

/** Sets `SO_RCVTIMEO`, so a blocking recv gives up with EAGAIN after `ms`. */
export function setReceiveTimeout(fd: number, ms: number): void {
  const tv = new Uint8Array(16);
  const v = new DataView(tv.buffer);
  v.setBigInt64(0, BigInt(Math.floor(ms / 1000)), true);
  v.setBigInt64(8, BigInt((ms % 1000) * 1000), true);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 'SO_RCVTIMEO');
}

export function bind(fd: number, addr: Uint8Array): void {
  check(net().bind(fd, addr, addr.byteLength), 'bind');
}

/** getsockname(2) into a buffer of `size` bytes. */
export function getsockname(fd: number, size = 128): Uint8Array {
  const addr = new Uint8Array(size);
  const len = Uint32Array.of(size);
  check(net().getsockname(fd, addr, len), 'getsockname');
  return addr.subarray(0, Math.min(size, len[0]!));
}

/** sendto(2); returns the bytes sent. */
export function sendto(fd: number, data: Uint8Array, addr: Uint8Array | null, flags = 0): number {
  return check(net().sendto(fd, data, data.byteLength, flags, addr, addr ? addr.byteLength : 0), 'sendto');
}

/**
 * recv(2) into `buf`; returns the length, or -1 when nothing is there
 * (EAGAIN: a non-blocking socket, `MSG_DONTWAIT` or a receive timeout).
 */
export function recv(fd: number, buf: Uint8Array, flags = 0): number {
  const n = Number(net().recv(fd, buf, buf.byteLength, flags));
  if (n >= 0) return n;
  const errno = net().koffi.errno();
  if (errno === EAGAIN) return -1;
  throw new KernelError('recv', errno);
}

/** A `struct sockaddr_in` for an IPv4 address (`a.b.c.d`) and port. */
export function sockaddrIn(address: string, port: number): Uint8Array {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255) || !Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new TsbpfError('EADDRESS', `"${address}:${port}" is not an IPv4 address and port`, { address, port });
  }
  const sa = new Uint8Array(16);
  const v = new DataView(sa.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  sa.set(parts, 4);
  return sa;
}

/** The port of a `struct sockaddr_in`. */
export function sockaddrPort(sa: Uint8Array): number {
  return new DataView(sa.buffer, sa.byteOffset, sa.byteLength).getUint16(2, false);
}

/** if_nametoindex(3) in the calling thread's network namespace; 0 when there is no such device. */
export function ifNameToIndex(name: string): number {
  return net().ifNameToIndex(name);
}

/** A close-on-exec duplicate of `fd` (fcntl F_DUPFD_CLOEXEC). */
export function dupCloexec(fd: number): number {
  return check(net().fcntl(fd, F_DUPFD_CLOEXEC, 'int', 3), 'fcntl', 'F_DUPFD_CLOEXEC');
}

/** setns(2) into the network namespace that `fd` refers to (the calling thread only). */
export function setNetns(fd: number): void {
  check(net().setns(fd, CLONE_NEWNET), 'setns', 'CLONE_NEWNET');
}
