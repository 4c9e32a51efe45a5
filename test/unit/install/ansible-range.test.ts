import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ansibleRangeWarning } from '../../../src/install/ansible-range.js';
import { KUBESPRAY_TARBALL, unpackUpstream } from '../../support/upstream.js';

describe("the bundle's ansible-core against kubespray v2.24.3's own playbooks/ansible_version.yml", () => {
  let tree: string;
  let bundle: string;
  beforeAll(() => {
    tree = unpackUpstream(KUBESPRAY_TARBALL);
    bundle = mkdtempSync(join(tmpdir(), 'ksb-range-'));
    mkdirSync(join(bundle, 'playbooks', 'playbooks'), { recursive: true });
    copyFileSync(join(tree, 'playbooks', 'ansible_version.yml'), join(bundle, 'playbooks', 'playbooks', 'ansible_version.yml'));
    mkdirSync(join(bundle, 'repos', 'pip', 'files'), { recursive: true });
  });
  afterAll(() => {
    rmSync(dirname(tree), { recursive: true, force: true });
    rmSync(bundle, { recursive: true, force: true });
  });

  const withWheel = async (name: string) => {
    const dir = join(bundle, 'repos', 'pip', 'files');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, name), '');
    return ansibleRangeWarning(bundle);
  };

  it('inside [2.15.5, 2.17.0) says nothing; below or at the upper bound is a warning naming the range', async () => {
    expect(await withWheel('ansible_core-2.15.5-py3-none-any.whl')).toBeUndefined();
    expect(await withWheel('ansible_core-2.16.14-py3-none-any.whl')).toBeUndefined();
    expect(await withWheel('ansible_core-2.14.3-py3-none-any.whl')).toBe(
      "the bundle's ansible-core 2.14.3 is outside kubespray's supported range >= 2.15.5, < 2.17.0 (playbooks/ansible_version.yml): its first play will refuse to run",
    );
    expect(await withWheel('ansible_core-2.17.0-py3-none-any.whl')).toMatch(/ansible-core 2\.17\.0 is outside/);
  });
});
