; A packet filter over an Ethernet frame (r1 = frame, r2 = its length):
; drops (returns 1) anything that is not IPv4 with TTL > 1, otherwise
; decrements the TTL in place, patches the IPv4 header checksum (RFC 1624)
; and returns 2 (pass). LLVM/kernel syntax.
;
;   npx tsbpf run examples/ipv4-ttl.s --mem examples/packet.bin --json
    r0 = 1                      ; drop unless proven otherwise
    if r2 < 34 goto out         ; Ethernet (14) + minimal IPv4 (20)
    r3 = *(u16 *)(r1 + 12)      ; EtherType, network order
    r3 = be16 r3
    if r3 != 0x800 goto out
    r4 = *(u8 *)(r1 + 22)       ; TTL
    if r4 <= 1 goto out
    r4 += -1
    *(u8 *)(r1 + 22) = r4
    ; checksum: HC' = ~(~HC + ~m + m'), m = TTL/protocol word
    r5 = *(u16 *)(r1 + 24)      ; header checksum
    r5 = be16 r5
    r5 ^= 0xffff                ; ~HC
    r6 = r4
    r6 += 1                     ; old TTL
    r6 <<= 8
    r7 = *(u8 *)(r1 + 23)       ; protocol
    r6 |= r7                    ; old word m
    r6 ^= 0xffff                ; ~m
    r5 += r6
    r8 = r4
    r8 <<= 8
    r8 |= r7                    ; new word m'
    r5 += r8
    r6 = r5                     ; fold the carries twice
    r6 >>= 16
    r5 &= 0xffff
    r5 += r6
    r6 = r5
    r6 >>= 16
    r5 &= 0xffff
    r5 += r6
    r5 ^= 0xffff
    r5 = be16 r5
    *(u16 *)(r1 + 24) = r5
    r0 = 2
out:
    exit
