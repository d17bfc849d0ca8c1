/**
 * The XDP packet helpers, by the kernel's ids and with its checks and
 * return values (net/core/filter.c): they move data, data_end and data_meta
 * inside the page and keep `xdp_md` in step.
 */
import type { HelperDef, HelperEnv } from '../helpers.js';
import { VmFault } from '../errors.js';
import { EFAULT, EINVAL, ETH_HLEN, checkCtx, err, hostState, memory, s32, u32 } from './common.js';
import { XDP_FRAME_SIZE, XDP_META_MAX, XdpAction, XdpState, type RedirectMapInfo } from './xdp.js';

const MAP_DEVMAP = 14;
const MAP_DEVMAP_HASH = 25;
/** `bpf_redirect_map` flags: the low bits are the action on a failed lookup. */
const ACTION_MASK = 3n;
const F_BROADCAST = 1n << 3n;
const F_EXCLUDE_INGRESS = 1n << 4n;

function state(env: HelperEnv, r1: bigint, helper: string): XdpState {
  const s = hostState(env, 'xdp', XdpState, helper);
  checkCtx(env, r1, s.ctx, helper);
  return s;
}

const metalen = (s: XdpState): number => s.data - s.dataMeta;
const metaInvalid = (len: number): boolean => len % 4 !== 0 || len > XDP_META_MAX;

/** Every map is a devmap whose every key is present, when the hook has no resolver. */
const ANY_DEVMAP: RedirectMapInfo = { type: MAP_DEVMAP, has: () => true };

/** `bpf_xdp_adjust_head(ctx, delta)` (44): moves `data`; metadata moves with it. */
function adjustHead(env: HelperEnv, r1: bigint, r2: bigint): bigint {
  const s = state(env, r1, 'xdp_adjust_head');
  const off = s32(r2);
  const meta = metalen(s);
  const data = s.data + off;
  if (data < s.hardStart + XDP_FRAME_SIZE + meta || data > s.dataEnd - ETH_HLEN) return err(EINVAL);
  if (meta) env.space.u8.copyWithin(s.dataMeta + off, s.dataMeta, s.data);
  s.dataMeta += off;
  s.data = data;
  s.sync();
  return 0n;
}

/** `bpf_xdp_adjust_meta(ctx, delta)` (54): moves `data_meta`; at most 252 bytes, a multiple of 4. */
function adjustMeta(env: HelperEnv, r1: bigint, r2: bigint): bigint {
  const s = state(env, r1, 'xdp_adjust_meta');
  const meta = s.dataMeta + s32(r2);
  if (meta < s.hardStart + XDP_FRAME_SIZE || meta > s.data) return err(EINVAL);
  if (metaInvalid(s.data - meta)) return err(13); // EACCES
  s.dataMeta = meta;
  s.sync();
  return 0n;
}

/** `bpf_xdp_adjust_tail(ctx, delta)` (65): moves `data_end`; grown bytes are zeroed. */
function adjustTail(env: HelperEnv, r1: bigint, r2: bigint): bigint {
  const s = state(env, r1, 'xdp_adjust_tail');
  const off = s32(r2);
  const end = s.dataEnd + off;
  if (end > s.hardEnd || end < s.data + ETH_HLEN) return err(EINVAL);
  if (off > 0) env.space.u8.fill(0, s.dataEnd, end);
  s.dataEnd = end;
  s.sync();
  return 0n;
}

/** `bpf_redirect(ifindex, flags)` (23) in XDP: any flag aborts. */
function redirect(env: HelperEnv, r1: bigint, r2: bigint): bigint {
  const s = hostState(env, 'xdp', XdpState, 'redirect');
  if (r2 !== 0n) return BigInt(XdpAction.ABORTED);
  s.redirect = { kind: 'ifindex', ifindex: u32(r1) };
  return BigInt(XdpAction.REDIRECT);
}

/** `bpf_redirect_map(map, key, flags)` (51): XDP_REDIRECT, or the flags' low bits when the key is absent. */
function redirectMap(env: HelperEnv, r1: bigint, r2: bigint, r3: bigint): bigint {
  const s = hostState(env, 'xdp', XdpState, 'redirect_map');
  const info = s.resolveMap ? s.resolveMap(r1) : ANY_DEVMAP;
  if (info === null) throw new VmFault('EHELPER', `bpf_redirect_map: 0x${r1.toString(16)} is not a map`, env.pc ?? -1);
  const devmap = info.type === MAP_DEVMAP || info.type === MAP_DEVMAP_HASH;
  const allowed = ACTION_MASK | (devmap ? F_BROADCAST | F_EXCLUDE_INGRESS : 0n);
  if ((r3 & ~allowed) !== 0n) return BigInt(XdpAction.ABORTED);
  const key = u32(r2);
  const broadcast = (r3 & F_BROADCAST) !== 0n;
  if (!info.has(key) && !broadcast) {
    s.redirect = null;
    return r3 & ACTION_MASK;
  }
  s.redirect = { kind: 'map', map: r1, mapType: info.type, key, broadcast, excludeIngress: broadcast && (r3 & F_EXCLUDE_INGRESS) !== 0n };
  return BigInt(XdpAction.REDIRECT);
}

/** The checks `bpf_xdp_load_bytes` / `store_bytes` share; the frame offset, or a negative errno. */
function xdpRange(s: XdpState, r2: bigint, r4: bigint): number {
  const off = u32(r2), len = u32(r4);
  if (off > 0xffff || len > 0xffff) return -EFAULT;
  if (off + len > s.dataEnd - s.data) return -EINVAL;
  return off;
}

/** `bpf_xdp_get_buff_len(ctx)` (188). */
function getBuffLen(env: HelperEnv, r1: bigint): bigint {
  const s = state(env, r1, 'xdp_get_buff_len');
  return BigInt(s.dataEnd - s.data);
}

/** `bpf_xdp_load_bytes(ctx, offset, buf, len)` (189). */
function loadBytes(env: HelperEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint): bigint {
  const s = state(env, r1, 'xdp_load_bytes');
  const off = xdpRange(s, r2, r4);
  if (off < 0) return err(-off);
  const len = u32(r4);
  const to = memory(env, r3, len, true, 'xdp_load_bytes', 'buf');
  env.space.u8.copyWithin(to, s.data + off, s.data + off + len);
  return 0n;
}

/** `bpf_xdp_store_bytes(ctx, offset, buf, len)` (190). */
function storeBytes(env: HelperEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint): bigint {
  const s = state(env, r1, 'xdp_store_bytes');
  const off = xdpRange(s, r2, r4);
  if (off < 0) return err(-off);
  const len = u32(r4);
  const from = memory(env, r3, len, false, 'xdp_store_bytes', 'buf');
  env.space.u8.copyWithin(s.data + off, from, from + len);
  return 0n;
}

/** The XDP packet helpers, by kernel id. */
export function xdpHelpers(): HelperDef[] {
  return [
    { id: 23, name: 'redirect', fn: redirect },
    { id: 44, name: 'xdp_adjust_head', fn: adjustHead },
    { id: 51, name: 'redirect_map', fn: redirectMap },
    { id: 54, name: 'xdp_adjust_meta', fn: adjustMeta },
    { id: 65, name: 'xdp_adjust_tail', fn: adjustTail },
    { id: 188, name: 'xdp_get_buff_len', fn: getBuffLen },
    { id: 189, name: 'xdp_load_bytes', fn: loadBytes },
    { id: 190, name: 'xdp_store_bytes', fn: storeBytes },
  ];
}
