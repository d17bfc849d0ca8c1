# Sourced by testdata/*/build.sh, after it has cd'ed to its own directory,
# with the build script's arguments: what every rebuild of the committed
# objects shares. It sets
#   SRC     the sources' directory (the current one); debug info names the
#           sources relative to it, so objects do not depend on where the
#           checkout lives
#   OUT     where the objects go: the first argument, else SRC (created)
#   CLANG   clang-19 unless already set
# and defines
#   bpf_cc TARGET ARGS...   $CLANG -target TARGET -O2 -g with the multiarch
#                           include directory and that debug-prefix mapping
SRC=$PWD
OUT=${1:-$SRC}
mkdir -p "$OUT"

CLANG=${CLANG:-clang-19}
# <linux/bpf.h> includes <asm/types.h>, which Debian keeps under the multiarch directory.
ARCH_INC=/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

bpf_cc() {
	local target=$1
	shift
	"$CLANG" -target "$target" -O2 -g -I"$ARCH_INC" -fdebug-prefix-map="$SRC"=. -fdebug-compilation-dir=. "$@"
}
