#!/bin/sh
# Regenerates the skeletons test/skeleton.test.ts uses (after `npm run build`).
set -e
cd "$(dirname "$0")/../.."
for n in xdp_count histogram globals; do
  node dist/src/cli/main.js gen skeleton "testdata/progs/$n.o" --import ../../src/index.js > "test/skel/$n.skel.ts"
done
