// Read-only strings merged into .rodata.str1.1, const data in .rodata, and
// custom .data.* / .rodata.* / .bss.* sections, which libbpf turns into maps
// named after the section alone.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 threshold = 64;
const char table[8] = { 1, 2, 3, 5, 8, 13, 21, 34 };
int custom_counter SEC(".data.counters") = 5;
const volatile int tuning SEC(".rodata.tuning") = 11;
__u64 scratch[4] SEC(".bss.scratch");
static volatile int local_state;

static __noinline long say(const char *what, int len)
{
	return bpf_trace_printk(what, len);
}

SEC("socket")
int strings(struct __sk_buff *skb)
{
	if (skb->len > threshold)
		say("a long packet\n", 15);
	else
		say("short\n", 7);
	custom_counter += table[skb->len & 7] + tuning;
	scratch[skb->len & 3] = skb->len;
	local_state++;
	return 0;
}
