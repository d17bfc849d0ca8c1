; Map-heavy placeholder until maps exist: a 32-slot table of u64 counters on
; the stack, updated 256 times at hashed slots (lookup, add, store back).
    r3 = -256
init:
    r4 = r10
    r4 += r3
    *(u64 *)(r4 + 0) = 0
    r3 += 8
    if r3 s< 0 goto init
    r6 = 0                      ; i
loop:
    r3 = r6
    r3 *= 0x9e3779b1            ; hash the key
    r3 >>= 7
    r3 &= 31                    ; slot
    r3 <<= 3
    r4 = r10
    r4 += -256
    r4 += r3
    r5 = *(u64 *)(r4 + 0)
    r5 += r6
    *(u64 *)(r4 + 0) = r5
    r6 += 1
    if r6 < 256 goto loop
    r0 = *(u64 *)(r10 - 8)
    r3 = *(u64 *)(r10 - 256)
    r0 += r3
    exit
