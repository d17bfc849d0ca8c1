; Parses Ethernet, IPv4 and TCP headers with bounds checks, 64 times over
; (as a filter would for a batch), and returns the sum of the TCP destination
; ports of the frames that are IPv4/TCP SYN. r1 = frame, r2 = its length.
; Only option-less IPv4 headers take the fast path, so every packet offset is
; a constant (what the kernel's verifier can follow without data_end).
    r6 = 64                     ; repetitions
    r7 = 0
again:
    r0 = 0
    if r2 < 54 goto done        ; Ethernet 14 + IPv4 20 + TCP 20
    r3 = *(u16 *)(r1 + 12)      ; EtherType
    r3 = be16 r3
    if r3 != 0x800 goto done
    r4 = *(u8 *)(r1 + 14)       ; version 4, IHL 5
    if r4 != 0x45 goto done
    r4 = *(u16 *)(r1 + 20)      ; fragment offset must be 0
    r4 = be16 r4
    r4 &= 0x1fff
    if r4 != 0 goto done
    r5 = *(u8 *)(r1 + 23)       ; protocol
    if r5 != 6 goto done
    r5 = *(u8 *)(r1 + 46)       ; TCP data offset
    r5 >>= 4
    if r5 < 5 goto done
    r5 = *(u8 *)(r1 + 47)       ; flags
    r5 &= 0x12                  ; SYN and ACK
    if r5 != 0x02 goto done     ; a SYN that is not a SYN-ACK
    r3 = *(u16 *)(r1 + 36)      ; destination port
    r3 = be16 r3
    r0 = r3
done:
    r7 += r0
    r6 += -1
    if r6 != 0 goto again
    r0 = r7
    exit
