// Map definitions with every BTF attribute: maps of maps and a prog array
// with static .values initialisers, pinning, numa_node, map_flags,
// map_extra (bloom filter), key_size/value_size without types, a ring buffer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer_arr SEC(".maps") = {
	.values = { [0] = &inner_a, [3] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 16);
		__type(key, __u64);
		__type(value, __u32);
	});
} outer_hash SEC(".maps");

int jump_a(struct xdp_md *ctx);
int jump_b(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__array(values, int (struct xdp_md *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&jump_a, [2] = (void *)&jump_b },
};

struct value {
	__u64 packets;
	__u32 last_len;
	char tag[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__uint(numa_node, 0);
	__uint(map_flags, BPF_F_NUMA_NODE);
} pinned_lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 100);
	__uint(value_size, sizeof(__u32));
	__uint(map_extra, 3);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int jump_a(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int jump_b(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	__u32 key = 0;
	void *inner = bpf_map_lookup_elem(&outer_arr, &key);
	if (inner) {
		__u64 *v = bpf_map_lookup_elem(inner, &key);
		if (v)
			(*v)++;
	}
	struct value *val = bpf_map_lookup_elem(&pinned_lru, &key);
	if (val)
		val->packets++;
	__u32 len = ctx->data_end - ctx->data;
	if (bpf_map_peek_elem(&bloom, &len) == 0)
		bpf_ringbuf_output(&events, &len, sizeof(len), 0);
	if (bpf_map_lookup_elem(&outer_hash, &key))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &jumps, len & 1 ? 1 : 2);
	return XDP_PASS;
}
