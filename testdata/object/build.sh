#!/usr/bin/env bash
# Builds every *.c beside this script into the *.o committed next to it, and
# multi.c a second time for big-endian eBPF (multi_be.o). Needs clang-19 and
# the libbpf headers (Debian: apt-get install -y clang-19 libbpf-dev), and
# ../clang-bpf.sh. The objects do not depend on where the checkout lives: the
# debug info names the sources relative to this directory.
#
#   testdata/object/build.sh            rebuild in place
#   testdata/object/build.sh OUTDIR     write the objects to OUTDIR instead
set -euo pipefail
cd "$(dirname "$0")"
source ../clang-bpf.sh "$@"

for src in *.c; do
	bpf_cc bpf -Wall -Werror -c "$src" -o "$OUT/${src%.c}.o"
done
bpf_cc bpfeb -Wall -Werror -c multi.c -o "$OUT/multi_be.o"
