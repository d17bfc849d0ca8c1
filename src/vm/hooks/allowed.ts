/**
 * Which helper ids each program type may call, after Linux 6.18's
 * `*_func_proto` tables (privileged loader). A hook provides its packet
 * helpers itself; the rest are the common helpers of the vm.
 */

/** `bpf_base_func_proto` as seen by a CAP_BPF + CAP_PERFMON loader. */
export const BASE_HELPERS: readonly number[] = [
  1, 2, 3, // map_lookup_elem, map_update_elem, map_delete_elem
  5, 6, 7, 8, // ktime_get_ns, trace_printk, get_prandom_u32, get_smp_processor_id
  12, // tail_call
  35, // get_current_task
  42, // get_numa_node_id
  87, 88, 89, // map_push_elem, map_pop_elem, map_peek_elem
  93, 94, // spin_lock, spin_unlock
  112, 113, 114, 115, // probe_read_user, probe_read_kernel, probe_read_user_str, probe_read_kernel_str
  118, // jiffies64
  125, // ktime_get_boot_ns
  130, 131, 132, 133, 134, // ringbuf_output, reserve, submit, discard, query
  153, 154, // per_cpu_ptr, this_cpu_ptr
  158, // get_current_task_btf
  160, // ktime_get_coarse_ns
  164, 165, // for_each_map_elem, snprintf
  169, 170, 171, 172, // timer_init, timer_set_callback, timer_start, timer_cancel
  181, 182, // loop, strncmp
  194, 195, // kptr_xchg, map_lookup_percpu_elem
  197, 198, 199, 200, 201, 202, 203, // dynptr_from_mem, ringbuf_*_dynptr, dynptr_read/write/data
  208, 209, // ktime_get_tai_ns, user_ringbuf_drain
];

const withBase = (ids: readonly number[]): readonly number[] => [...new Set([...BASE_HELPERS, ...ids])].sort((a, b) => a - b);

/** `sk_filter_func_proto`. */
export const SOCKET_FILTER_HELPERS = withBase([
  25, // perf_event_output
  26, // skb_load_bytes
  46, 47, // get_socket_cookie, get_socket_uid
  68, // skb_load_bytes_relative
]);

/** `tc_cls_act_func_proto`. */
export const TC_HELPERS = withBase([
  9, 10, 11, // skb_store_bytes, l3_csum_replace, l4_csum_replace
  13, // clone_redirect
  17, // get_cgroup_classid
  18, 19, // skb_vlan_push, skb_vlan_pop
  20, 21, // skb_get_tunnel_key, skb_set_tunnel_key
  23, 24, 25, 26, // redirect, get_route_realm, perf_event_output, skb_load_bytes
  28, 29, 30, 31, 32, // csum_diff, skb_get/set_tunnel_opt, skb_change_proto, skb_change_type
  33, 34, 38, 39, 40, 41, // skb_under_cgroup, get_hash_recalc, skb_change_tail, skb_pull_data, csum_update, set_hash_invalid
  43, 46, 47, 48, 50, // skb_change_head, get_socket_cookie, get_socket_uid, set_hash, skb_adjust_room
  66, 68, 69, // skb_get_xfrm_state, skb_load_bytes_relative, fib_lookup
  79, 83, 84, 85, 86, // skb_cgroup_id, skb_ancestor_cgroup_id, sk_lookup_tcp, sk_lookup_udp, sk_release
  95, 96, 97, 98, 99, 100, // sk_fullsock, tcp_sock, skb_ecn_set_ce, get_listener_sock, skc_lookup_tcp, tcp_check_syncookie
  107, 108, // sk_storage_get, sk_storage_delete
  110, 124, // tcp_gen_syncookie, sk_assign
  135, 151, 152, 155, // csum_level, skb_cgroup_classid, redirect_neigh, redirect_peer
  163, 192, // check_mtu, skb_set_tstamp
]);

/** `xdp_func_proto`. */
export const XDP_HELPERS = withBase([
  23, 25, 28, // redirect, perf_event_output, csum_diff
  44, 51, 54, 65, 69, // xdp_adjust_head, redirect_map, xdp_adjust_meta, xdp_adjust_tail, fib_lookup
  84, 85, 86, 99, 100, 110, // sk_lookup_tcp, sk_lookup_udp, sk_release, skc_lookup_tcp, tcp_check_syncookie, tcp_gen_syncookie
  163, 188, 189, 190, // check_mtu, xdp_get_buff_len, xdp_load_bytes, xdp_store_bytes
]);

/** `bpf_tracing_func_proto` (tracepoints, uprobes). */
export const TRACING_HELPERS = withBase([
  4, 14, 15, 16, // probe_read, get_current_pid_tgid, get_current_uid_gid, get_current_comm
  22, 25, 27, 37, // perf_event_read, perf_event_output, get_stackid, current_task_under_cgroup
  45, 55, 67, // probe_read_str, perf_event_read_value, get_stack
  80, 109, 117, 120, 123, // get_current_cgroup_id, send_signal, send_signal_thread, get_ns_current_pid_tgid, get_current_ancestor_cgroup_id
  141, 173, 174, 175, 176, 177, 180, // get_task_stack, get_func_ip, get_attach_cookie, task_pt_regs, get_branch_snapshot, trace_vprintk, find_vma
]);
