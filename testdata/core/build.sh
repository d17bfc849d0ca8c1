#!/usr/bin/env bash
# Rebuilds the objects of test/btf-core.test.ts and test/btf-value.test.ts
# from the C sources beside this script. Needs (Debian 12):
#   apt-get install -y clang-19 libbpf-dev
# The tests read only the committed objects; they never run clang.
# -fdebug-prefix-map keeps absolute paths out of the objects, so a rebuild
# is byte-identical wherever the checkout lives.
set -euo pipefail
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-19}
ARCH_INC=/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
CFLAGS=(-O2 -g -I"$ARCH_INC" -fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=.)

"$CLANG" "${CFLAGS[@]}" -target bpfel -c fields.c -o fields.el.o
"$CLANG" "${CFLAGS[@]}" -target bpfeb -c fields.c -o fields.eb.o
"$CLANG" "${CFLAGS[@]}" -target bpfel -c task.c -o task.o
"$CLANG" "${CFLAGS[@]}" -target bpfel -c values.c -o values.el.o
"$CLANG" "${CFLAGS[@]}" -target bpfeb -c values.c -o values.eb.o
"$CLANG" "${CFLAGS[@]}" -target bpfel -c xdp_ctx.c -o xdp_ctx.o
