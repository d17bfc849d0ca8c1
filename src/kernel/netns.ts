/**
 * Network devices and namespaces: an interface name or index to an ifindex,
 * and running synchronous code inside another network namespace.
 */
import { closeSync, openSync } from 'node:fs';
import { AttachError } from './attach-error.js';
import { ifNameToIndex, setNetns } from './socket.js';

/** A network device: its ifindex, or its name (resolved in the current network namespace). */
export type NetInterface = number | string;

/** No such network device, or a malformed name or index (code `ENODEV`). */
export class NetDeviceError extends AttachError {
  constructor(iface: NetInterface, why: string) {
    super('ENODEV', `network device ${JSON.stringify(iface)}: ${why}`, { iface });
  }
}

/** The ifindex of a device: a positive index is taken as is, a name is looked up with if_nametoindex. */
export function ifIndex(iface: NetInterface): number {
  if (typeof iface === 'number') {
    if (!Number.isInteger(iface) || iface <= 0 || iface > 0x7fffffff) throw new NetDeviceError(iface, 'not a valid ifindex');
    return iface;
  }
  if (iface.length === 0 || iface.length > 15 || /[\s/\0]/.test(iface)) throw new NetDeviceError(iface, 'not a valid interface name');
  const index = ifNameToIndex(iface);
  if (index === 0) throw new NetDeviceError(iface, 'no such device in this network namespace');
  return index;
}

/** `/run/netns/NAME` for a name (as `ip netns add NAME` creates it), a path as is. */
export function netnsPath(ns: string): string {
  if (ns.includes('/')) return ns;
  if (ns.length === 0 || ns === '.' || ns === '..') throw new AttachError('ENETNS', `"${ns}" is not a network namespace name`, { netns: ns });
  return `/run/netns/${ns}`;
}

/**
 * Runs `fn` with the calling thread inside the network namespace `ns` (a
 * name under /run/netns, or a path such as /proc/PID/ns/net), then moves
 * it back, even when `fn` throws. `fn` must be synchronous: only the main
 * thread moves, and only while `fn` runs. Sockets and device lookups made
 * inside belong to that namespace; so do attachments made by ifindex.
 */
export function inNetns<T>(ns: string, fn: () => T): T {
  const path = netnsPath(ns);
  let target: number;
  try {
    target = openSync(path, 'r');
  } catch (e) {
    throw new AttachError('ENETNS', `cannot open network namespace ${path}: ${(e as Error).message}`, { netns: path });
  }
  let home = -1;
  try {
    home = openSync('/proc/thread-self/ns/net', 'r');
    setNetns(target);
    try {
      return fn();
    } finally {
      // If this fails the thread is stranded in the other namespace; say so loudly.
      setNetns(home);
    }
  } finally {
    closeSync(target);
    if (home >= 0) closeSync(home);
  }
}
