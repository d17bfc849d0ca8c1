; bpf-to-bpf call chains: 200 iterations, each a call two frames deep.
    r6 = 200
    r7 = 0
loop:
    r1 = r6
    call f1
    r7 += r0
    r6 += -1
    if r6 != 0 goto loop
    r0 = r7
    exit
f1:
    r1 += 3
    call f2
    r0 += 1
    exit
f2:
    r0 = r1
    r0 *= 3
    exit
