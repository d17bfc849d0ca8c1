// What the "testdata/X/build.sh rebuilds the committed objects byte for
// byte" tests share: the clang-19 gate and a rebuild in another directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { REPO_ROOT } from './conformance-data.js';

const TESTDATA = join(REPO_ROOT, 'testdata');

/** True when clang-19 runs here; otherwise skips `t`, saying why. */
export function needClang(t: TestContext): boolean {
  const probe = spawnSync('clang-19', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.skip(`clang-19 is not available (${probe.error?.message ?? `exit ${probe.status}`}); the committed objects are not rebuilt`);
    return false;
  }
  return true;
}

/**
 * Runs testdata/`name`/build.sh on a copy of it and of `sources` in a fresh
 * temporary directory (with testdata/clang-bpf.sh beside it, as in the
 * checkout), so that the objects must not depend on the path; hands the
 * directory with the rebuilt objects to `check`, then removes it all.
 */
export function rebuildElsewhere(name: string, sources: readonly string[], check: (dir: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), `tsbpf-${name}-`));
  try {
    const dir = join(root, name);
    mkdirSync(dir);
    copyFileSync(join(TESTDATA, 'clang-bpf.sh'), join(root, 'clang-bpf.sh'));
    for (const f of [...sources, 'build.sh']) copyFileSync(join(TESTDATA, name, f), join(dir, f));
    const r = spawnSync('bash', [join(dir, 'build.sh')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `build.sh failed: ${r.stderr}`);
    check(dir);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
