#!/usr/bin/env bash
# Regenerates the llvm-objdump fixtures of test/asm.test.ts from the C
# sources beside this script. Needs (Debian 12):
#   apt-get install -y clang-19 llvm-19 libbpf-dev   (llvm-14 for the *.objdump14.* dumps)
# The tests read only the committed outputs; they never run clang.
#
# verifier-log-6.18.txt and .hex are not made here: they are a running
# kernel's log_level 2 verifier log for verifier-log.s and the bytes loaded,
# captured as root by capture-verifier-log.mjs (after `npx tsc -p .`).
set -euo pipefail
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-19}
OBJDUMP=${OBJDUMP:-llvm-objdump-19}
OBJDUMP14=${OBJDUMP14:-llvm-objdump-14}
# <linux/bpf.h> includes <asm/types.h>, which Debian keeps under the multiarch directory.
ARCH_INC=/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
# No absolute paths in the objects' debug info.
CFLAGS=(-O2 -g -target bpf -I"$ARCH_INC" -fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=.)

# name:cpu ("" = clang's default -mcpu)
for spec in calls_v4:v4 sockfilter_v1:; do
  name=${spec%%:*}
  cpu=${spec#*:}
  "$CLANG" "${CFLAGS[@]}" ${cpu:+-mcpu=$cpu} -c "$name.c" -o "$name.o"
  "$OBJDUMP" -d "$name.o" > "$name.objdump19.d.txt"
  "$OBJDUMP" -dr "$name.o" > "$name.objdump19.dr.txt"
  if command -v "$OBJDUMP14" > /dev/null; then
    "$OBJDUMP14" -dr "$name.o" > "$name.objdump14.dr.txt"
  fi
done
