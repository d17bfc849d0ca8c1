; Map-heavy, like a flow table: 256 bpf_map_lookup_elem (helper 1) at hashed
; keys in a BPF_MAP_TYPE_HASH (u32 key -> u64 value, max_entries 1024) that the
; bench fills with keys 0..255. A hit adds to its value through the returned
; pointer; every 8th step refreshes the entry with bpf_map_update_elem
; (helper 2, BPF_ANY).
;
; Convention for run.ts: every `map_fd(0) ll` (lddw src=1) is the bench's map.
; run.ts rewrites it to a plain lddw of the map's handle (vm) or keeps src=1
; with imm = the map's fd (kernel). No other 64-bit load may use map_fd.
;
; r0 = sum of (key + 1) over the hits + the number of updates that returned 0.
; It does not depend on the values, so every run returns the same r0 while
; the values keep growing.
    r6 = 0                      ; i
    r7 = 0                      ; sum of key + 1 over the hits
    r8 = 0                      ; updates that succeeded
loop:
    r3 = r6
    r3 *= 0x9e3779b1            ; hash the step into a key
    r3 >>= 7
    r3 &= 255
    *(u32 *)(r10 - 4) = w3      ; key
    r1 = map_fd(0) ll
    r2 = r10
    r2 += -4
    call 1                      ; bpf_map_lookup_elem
    if r0 == 0 goto update
    r1 = *(u64 *)(r0 + 0)
    r1 += r6
    *(u64 *)(r0 + 0) = r1
    r1 = *(u32 *)(r10 - 4)
    r7 += r1
    r7 += 1
update:
    r1 = r6
    r1 &= 7
    if r1 != 0 goto next
    r1 = r6
    r1 *= 3
    *(u64 *)(r10 - 16) = r1     ; new value
    r1 = map_fd(0) ll
    r2 = r10
    r2 += -4
    r3 = r10
    r3 += -16
    r4 = 0                      ; BPF_ANY
    call 2                      ; bpf_map_update_elem
    if r0 != 0 goto next
    r8 += 1
next:
    r6 += 1
    if r6 < 256 goto loop
    r0 = r7
    r0 += r8
    exit
