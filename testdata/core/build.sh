#!/usr/bin/env bash
# Rebuilds the objects of test/btf-core.test.ts and test/btf-value.test.ts
# from the C sources beside this script. Needs (Debian 12):
#   apt-get install -y clang-19 libbpf-dev
# and ../clang-bpf.sh. The tests read only the committed objects; they never
# run clang. -fdebug-prefix-map keeps absolute paths out of the objects, so a
# rebuild is byte-identical wherever the checkout lives.
#
#   testdata/core/build.sh            rebuild in place
#   testdata/core/build.sh OUTDIR     write the objects to OUTDIR instead
set -euo pipefail
cd "$(dirname "$0")"
source ../clang-bpf.sh "$@"

bpf_cc bpfel -c fields.c -o "$OUT/fields.el.o"
bpf_cc bpfeb -c fields.c -o "$OUT/fields.eb.o"
bpf_cc bpfel -c task.c -o "$OUT/task.o"
bpf_cc bpfel -c values.c -o "$OUT/values.el.o"
bpf_cc bpfeb -c values.c -o "$OUT/values.eb.o"
bpf_cc bpfel -c xdp_ctx.c -o "$OUT/xdp_ctx.o"
