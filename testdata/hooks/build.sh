#!/usr/bin/env bash
# Builds every *.c beside this script into the *.o committed next to it: the
# programs test/vm-hooks.test.ts runs through the kernel and through the vm's
# hooks. Needs clang-19 and the libbpf headers (Debian: apt-get install -y
# clang-19 libbpf-dev), and ../clang-bpf.sh. The objects do not depend on
# where the checkout lives: the debug info names the sources relative to
# this directory.
#
#   testdata/hooks/build.sh            rebuild in place
#   testdata/hooks/build.sh OUTDIR     write the objects to OUTDIR instead
set -euo pipefail
cd "$(dirname "$0")"
source ../clang-bpf.sh "$@"

# __TARGET_ARCH_x86: PT_REGS_PARM1..5 / PT_REGS_RC name x86-64's struct pt_regs.
for src in *.c; do
	bpf_cc bpf -mcpu=v3 -Wall -Werror -D__TARGET_ARCH_x86 -c "$src" -o "$OUT/${src%.c}.o"
done
