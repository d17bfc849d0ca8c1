; Program of verifier-log-6.18.txt (tsbpf LLVM syntax): two lddw, a helper
; call, a bounded loop around a bpf-to-bpf call, atomics, sign extension and
; a byte swap. capture-verifier-log.mjs loads it as XDP with log_level 2.
  r6 = r1
  r1 = 0x1122334455667788 ll
  r2 = 0xffffffff ll
  r1 ^= r2
  call 7                      ; bpf_get_prandom_u32
  w9 = w0
  r7 = 0
  w8 = -3
loop:
  r7 += 1
  r1 = r7
  call square
  r8 += r0
  if w7 < 4 goto loop
  r8 = bswap64 r8
  *(u64 *)(r10 - 8) = r8
  r1 = 1
  lock *(u64 *)(r10 - 8) += r1
  r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)
  r0 = *(u32 *)(r10 - 8)
  r0 = (s8)r0
  r0 &= 3
  exit
square:
  r0 = r1
  r0 *= r1
  r0 s/= 3
  exit
