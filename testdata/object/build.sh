#!/usr/bin/env bash
# Builds every *.c beside this script into the *.o committed next to it, and
# multi.c a second time for big-endian eBPF (multi_be.o). Needs clang-19 and
# the libbpf headers (Debian: apt-get install -y clang-19 libbpf-dev). The
# objects do not depend on where the checkout lives: the debug info names the
# sources relative to this directory.
#
#   testdata/object/build.sh            rebuild in place
#   testdata/object/build.sh OUTDIR     write the objects to OUTDIR instead
set -euo pipefail
cd "$(dirname "$0")"
SRC=$PWD
OUT=${1:-$SRC}
mkdir -p "$OUT"

CLANG=${CLANG:-clang-19}
ARCH_INC=/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
CFLAGS=(-O2 -g -Wall -Werror -I"$ARCH_INC"
	-fdebug-prefix-map="$SRC"=. -fdebug-compilation-dir=.)

for src in *.c; do
	"$CLANG" -target bpf "${CFLAGS[@]}" -c "$src" -o "$OUT/${src%.c}.o"
done
"$CLANG" -target bpfeb "${CFLAGS[@]}" -c multi.c -o "$OUT/multi_be.o"
