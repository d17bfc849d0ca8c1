; Byte-wise loop over packet memory: the 32-bit FNV-1a hash of every byte.
; r1 = packet, r2 = its length.
    w0 = 0x811c9dc5
    r3 = 0                      ; index
loop:
    if r3 >= r2 goto done
    if r3 > 1499 goto done      ; bounded for the verifier
    r4 = r1
    r4 += r3
    r5 = *(u8 *)(r4 + 0)
    w0 ^= w5
    w0 *= 0x01000193
    r3 += 1
    goto loop
done:
    exit
