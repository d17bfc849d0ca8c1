#!/usr/bin/env bash
# Builds every *.c beside this script into the *.o committed next to it: the
# programs test/kernel-attach-net.test.ts attaches to network hooks. Needs
# clang-19 and the libbpf headers (Debian: apt-get install -y clang-19
# libbpf-dev), and ../clang-bpf.sh. The objects do not depend on where the
# checkout lives: the debug info names the sources relative to this directory.
#
#   testdata/attach/build.sh            rebuild in place
#   testdata/attach/build.sh OUTDIR     write the objects to OUTDIR instead
set -euo pipefail
cd "$(dirname "$0")"
source ../clang-bpf.sh "$@"

for src in *.c; do
	bpf_cc bpf -mcpu=v3 -Wall -Werror -c "$src" -o "$OUT/${src%.c}.o"
done
