/**
 * The skb packet helpers of tc and socket filters, by the kernel's ids and
 * with its checks and return values (net/core/filter.c). Offsets are from
 * `skb->data`. The test-run skb is linear and has no checksum offload
 * (CHECKSUM_NONE), so BPF_F_RECOMPUTE_CSUM and BPF_F_PSEUDO_HDR change no
 * state beyond the packet bytes.
 */
import type { HelperDef, HelperEnv } from '../helpers.js';
import { EFAULT, EINVAL, ENOMEM, checkCtx, err, hostState, memory, u32 } from './common.js';
import { csumReplace2, csumReplace4, csumReplaceByDiff } from './checksum.js';
import { SKB_MAX_LEN, SkbState } from './skb.js';

const INT_MAX = 0x7fffffff;
const F_RECOMPUTE_CSUM = 1n;
const F_INVALIDATE_HASH = 2n;
const F_HDR_FIELD_MASK = 0xfn;
const F_PSEUDO_HDR = 0x10n;
const F_MARK_MANGLED_0 = 0x20n;
const F_MARK_ENFORCE = 0x40n;
const F_IPV6 = 0x80n;
const F_INGRESS = 1n;
const TC_ACT_SHOT = 2n;
const TC_ACT_REDIRECT = 7n;
const HDR_START_MAC = 0;
const HDR_START_NET = 1;

function state(env: HelperEnv, r1: bigint, helper: string): SkbState {
  const s = hostState(env, 'skb', SkbState, helper);
  checkCtx(env, r1, s.ctx, helper);
  return s;
}

/** `bpf_skb_load_bytes(skb, offset, to, len)` (26): `to` is zeroed when the range is outside the packet. */
function loadBytes(env: HelperEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint): bigint {
  const s = state(env, r1, 'skb_load_bytes');
  const off = u32(r2), len = u32(r4);
  const to = memory(env, r3, len, true, 'skb_load_bytes', 'to');
  if (off > INT_MAX || off + len > s.len) {
    env.space.u8.fill(0, to, to + len);
    return err(EFAULT);
  }
  env.space.u8.copyWithin(to, s.data + off, s.data + off + len);
  return 0n;
}

/** `bpf_skb_load_bytes_relative(skb, offset, to, len, start_header)` (68): from the MAC (0) or network (1) header. */
function loadBytesRelative(env: HelperEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint): bigint {
  const s = state(env, r1, 'skb_load_bytes_relative');
  const off = u32(r2), len = u32(r4), hdr = u32(r5);
  const to = memory(env, r3, len, true, 'skb_load_bytes_relative', 'to');
  const start = hdr === HDR_START_MAC ? s.mac : hdr === HDR_START_NET ? s.network : -1;
  if (off > 0xffff || start < 0 || start + off + len > s.tail) {
    env.space.u8.fill(0, to, to + len);
    return err(EFAULT);
  }
  env.space.u8.copyWithin(to, start + off, start + off + len);
  return 0n;
}

/** `bpf_skb_store_bytes(skb, offset, from, len, flags)` (9). */
function storeBytes(env: HelperEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint): bigint {
  const s = state(env, r1, 'skb_store_bytes');
  if ((r5 & ~(F_RECOMPUTE_CSUM | F_INVALIDATE_HASH)) !== 0n) return err(EINVAL);
  const off = u32(r2), len = u32(r4);
  if (off > INT_MAX || off + len > s.len) return err(EFAULT);
  const from = memory(env, r3, len, false, 'skb_store_bytes', 'from');
  env.space.u8.copyWithin(s.data + off, from, from + len);
  if (r5 & F_INVALIDATE_HASH) s.hash = 0;
  s.sync();
  return 0n;
}

/** The 16-bit checksum field at `offset` a csum helper may rewrite: its address, or a negative errno. */
function csumField(s: SkbState, r2: bigint): number {
  const off = u32(r2);
  if (off > 0xffff || off & 1 || off + 2 > s.len) return -EFAULT;
  return s.data + off;
}

/**
 * The new checksum of a csum helper, by the field size in flags' low 4 bits:
 * 0 means `to` is a difference (and `from` must be 0), 2 and 4 replace a
 * field of that many bytes (`replace2` says how for 2: l3 folds 16-bit
 * words, l4 widens them to 32 bits as the kernel does); -1 means EINVAL.
 */
function replacedSum(sum: number, from: bigint, to: bigint, flags: bigint, replace2: typeof csumReplace2): number {
  switch (Number(flags & F_HDR_FIELD_MASK)) {
    case 0:
      return from === 0n ? csumReplaceByDiff(sum, u32(to)) : -1;
    case 2:
      return replace2(sum, u32(from) & 0xffff, u32(to) & 0xffff);
    case 4:
      return csumReplace4(sum, u32(from), u32(to));
    default:
      return -1;
  }
}

/** `bpf_l3_csum_replace(skb, offset, from, to, flags)` (10): flags' low 4 bits are the field size (0 = `to` is a diff). */
function l3CsumReplace(env: HelperEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint): bigint {
  const s = state(env, r1, 'l3_csum_replace');
  if ((r5 & ~F_HDR_FIELD_MASK) !== 0n) return err(EINVAL);
  const at = csumField(s, r2);
  if (at < 0) return err(-at);
  const v = env.space.view;
  const next = replacedSum(v.getUint16(at, true), r3, r4, r5, csumReplace2);
  if (next < 0) return err(EINVAL);
  v.setUint16(at, next, true);
  return 0n;
}

/**
 * `bpf_l4_csum_replace(skb, offset, from, to, flags)` (11): as l3, plus
 * BPF_F_MARK_MANGLED_0 (a zero checksum means "none": keep it, and write
 * 0xffff for a result of 0), BPF_F_MARK_ENFORCE, BPF_F_PSEUDO_HDR, BPF_F_IPV6.
 */
function l4CsumReplace(env: HelperEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint): bigint {
  const s = state(env, r1, 'l4_csum_replace');
  if ((r5 & ~(F_MARK_MANGLED_0 | F_MARK_ENFORCE | F_PSEUDO_HDR | F_HDR_FIELD_MASK | F_IPV6)) !== 0n) return err(EINVAL);
  const at = csumField(s, r2);
  if (at < 0) return err(-at);
  const v = env.space.view;
  const sum = v.getUint16(at, true);
  const mangled0 = (r5 & F_MARK_MANGLED_0) !== 0n;
  if (mangled0 && (r5 & F_MARK_ENFORCE) === 0n && sum === 0) return 0n;
  let next = replacedSum(sum, r3, r4, r5, csumReplace4);
  if (next < 0) return err(EINVAL);
  if (mangled0 && next === 0) next = 0xffff;
  v.setUint16(at, next, true);
  return 0n;
}

/** `bpf_redirect(ifindex, flags)` (23) in tc: TC_ACT_REDIRECT, or TC_ACT_SHOT for flags other than BPF_F_INGRESS. */
function redirect(env: HelperEnv, r1: bigint, r2: bigint): bigint {
  const s = hostState(env, 'skb', SkbState, 'redirect');
  if ((r2 & ~F_INGRESS) !== 0n) return TC_ACT_SHOT;
  s.redirect = { ifindex: u32(r1), ingress: (r2 & F_INGRESS) !== 0n };
  return TC_ACT_REDIRECT;
}

/** `bpf_skb_change_tail(skb, len, flags)` (38): grows (with zeros) or trims the packet. */
function changeTail(env: HelperEnv, r1: bigint, r2: bigint, r3: bigint): bigint {
  const s = state(env, r1, 'skb_change_tail');
  const len = u32(r2);
  const minLen = Math.max(0, s.network - s.data);
  if (r3 !== 0n || len > SKB_MAX_LEN || len < minLen) return err(EINVAL);
  if (s.data + len > s.buffer.end) return err(ENOMEM);
  if (len > s.len) env.space.u8.fill(0, s.tail, s.data + len);
  s.len = len;
  s.sync();
  return 0n;
}

/** `bpf_skb_pull_data(skb, len)` (39): the linear test-run skb has everything pulled; fails past its end. */
function pullData(env: HelperEnv, r1: bigint, r2: bigint): bigint {
  const s = state(env, r1, 'skb_pull_data');
  const len = u32(r2) || s.len;
  return len > s.len ? err(ENOMEM) : 0n;
}

/** `bpf_set_hash_invalid(skb)` (41). */
function setHashInvalid(env: HelperEnv, r1: bigint): bigint {
  const s = state(env, r1, 'set_hash_invalid');
  s.hash = 0;
  s.sync();
  return 0n;
}

/** `bpf_set_hash(skb, hash)` (48). */
function setHash(env: HelperEnv, r1: bigint, r2: bigint): bigint {
  const s = state(env, r1, 'set_hash');
  s.hash = u32(r2);
  s.sync();
  return 0n;
}

/** The packet helpers of socket filters. */
export function socketFilterHelpers(): HelperDef[] {
  return [
    { id: 26, name: 'skb_load_bytes', fn: loadBytes },
    { id: 68, name: 'skb_load_bytes_relative', fn: loadBytesRelative },
  ];
}

/** The packet helpers of tc programs. */
export function tcHelpers(): HelperDef[] {
  return [
    { id: 9, name: 'skb_store_bytes', fn: storeBytes },
    { id: 10, name: 'l3_csum_replace', fn: l3CsumReplace },
    { id: 11, name: 'l4_csum_replace', fn: l4CsumReplace },
    { id: 23, name: 'redirect', fn: redirect },
    { id: 26, name: 'skb_load_bytes', fn: loadBytes },
    { id: 38, name: 'skb_change_tail', fn: changeTail },
    { id: 39, name: 'skb_pull_data', fn: pullData },
    { id: 41, name: 'set_hash_invalid', fn: setHashInvalid },
    { id: 48, name: 'set_hash', fn: setHash },
    { id: 68, name: 'skb_load_bytes_relative', fn: loadBytesRelative },
  ];
}
