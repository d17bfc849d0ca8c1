; ALU-heavy bounded loop: 1000 iterations of mixed 64- and 32-bit arithmetic.
; In the vm r1 is the packet and r2 its length; this program ignores both.
    r0 = 0
    r1 = 1000
    r2 = 0x12345
loop:
    r0 += r2
    r3 = r0
    r3 ^= r1
    r3 <<= 3
    r0 += r3
    w4 = w0
    w4 *= 7
    r0 -= r4
    r2 += 1
    r1 += -1
    if r1 != 0 goto loop
    exit
