; Sums the bytes of the input memory (r1 = memory, r2 = its length) with a
; bounded loop and a bpf-to-bpf call. LLVM/kernel syntax.
;
;   npx tsbpf run examples/sum-bytes.s --mem examples/packet.bin
    r6 = r1                 ; cursor
    r7 = r1
    r7 += r2                ; one past the end
    r8 = 0                  ; running sum (r6-r9 survive calls)
loop:
    if r6 >= r7 goto done
    r1 = *(u8 *)(r6 + 0)
    r2 = r8
    call add                ; r0 = r1 + r2
    r8 = r0
    r6 += 1
    goto loop
done:
    r0 = r8
    exit

add:
    r0 = r1
    r0 += r2
    exit
