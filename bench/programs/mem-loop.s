; Loads and stores: copies 64 bytes of the input to the stack and sums them
; back, 32 times.
    r6 = 32
outer:
    r3 = 0
copy:
    r4 = r1
    r4 += r3
    r5 = *(u64 *)(r4 + 0)
    r4 = r10
    r4 += -64
    r4 += r3
    *(u64 *)(r4 + 0) = r5
    r3 += 8
    if r3 < 64 goto copy
    r0 = 0
    r3 = -64
sum:
    r4 = r10
    r4 += r3
    r5 = *(u64 *)(r4 + 0)
    r0 += r5
    r3 += 8
    if r3 s< 0 goto sum
    r6 += -1
    if r6 != 0 goto outer
    exit
