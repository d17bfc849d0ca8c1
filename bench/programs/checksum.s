; Internet checksum (RFC 1071) over the whole 1500-byte packet, 16 bits at a
; time, folded to 16 bits. r1 = packet, r2 = its length.
    r0 = 0
    r3 = 0                      ; offset
loop:
    r4 = r3
    r4 += 2
    if r4 > r2 goto fold
    if r3 > 1498 goto fold      ; bounded for the verifier
    r5 = r1
    r5 += r3
    r6 = *(u16 *)(r5 + 0)
    r0 += r6
    r3 += 2
    goto loop
fold:
    r6 = r0
    r6 >>= 16
    r0 &= 0xffff
    r0 += r6
    r6 = r0
    r6 >>= 16
    r0 &= 0xffff
    r0 += r6
    r0 ^= 0xffff
    exit
