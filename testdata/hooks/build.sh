#!/usr/bin/env bash
# Builds every *.c beside this script into the *.o committed next to it: the
# programs test/vm-hooks.test.ts runs through the kernel and through the vm's
# hooks. Needs clang-19 and the libbpf headers (Debian: apt-get install -y
# clang-19 libbpf-dev). The objects do not depend on where the checkout
# lives: the debug info names the sources relative to this directory.
#
#   testdata/hooks/build.sh            rebuild in place
#   testdata/hooks/build.sh OUTDIR     write the objects to OUTDIR instead
set -euo pipefail
cd "$(dirname "$0")"
SRC=$PWD
OUT=${1:-$SRC}
mkdir -p "$OUT"

CLANG=${CLANG:-clang-19}
# <linux/bpf.h> includes <asm/types.h>, which Debian keeps under the multiarch directory.
ARCH_INC=/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
# __TARGET_ARCH_x86: PT_REGS_PARM1..5 / PT_REGS_RC name x86-64's struct pt_regs.
CFLAGS=(-target bpf -mcpu=v3 -O2 -g -Wall -Werror -D__TARGET_ARCH_x86
	-I"$ARCH_INC"
	-fdebug-prefix-map="$SRC"=. -fdebug-compilation-dir=.)

for src in *.c; do
	"$CLANG" "${CFLAGS[@]}" -c "$src" -o "$OUT/${src%.c}.o"
done
