#!/usr/bin/env bash
# Rebuilds trace.o, the object of test/kernel-attach-trace.test.ts, from
# trace.c beside this script. Needs (Debian 12):
#   apt-get install -y clang-19 libbpf-dev
# and ../clang-bpf.sh. The test reads only the committed object; it never
# runs clang. -fdebug-prefix-map keeps absolute paths out of the object, so
# a rebuild is byte-identical wherever the checkout lives.
#
#   testdata/attach-trace/build.sh          rebuild in place
#   testdata/attach-trace/build.sh OUTDIR   write the object to OUTDIR instead
set -euo pipefail
cd "$(dirname "$0")"
source ../clang-bpf.sh "$@"

bpf_cc bpf -mcpu=v3 -Wall -Werror -D__TARGET_ARCH_x86 -c trace.c -o "$OUT/trace.o"
