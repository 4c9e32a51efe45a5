import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { renderClusterConfiguration } from '../../../src/kubesphere/cluster-configuration.js';
import { readInstallerLog } from '../../../src/kubesphere/installer-log.js';
import { KS_INSTALLER_TARBALL, unpackUpstream } from '../../support/upstream.js';

/** Every key path of a YAML mapping tree: `common.core.console.port`. */
function paths(o: unknown, prefix = ''): string[] {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return [];
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...paths(v, p)];
  });
}

describe("the ClusterConfiguration, against ks-installer v3.4.1's own deploy/cluster-configuration.yaml", () => {
  let tree: string;
  let template: string;
  beforeAll(() => {
    tree = unpackUpstream(KS_INSTALLER_TARBALL);
    template = readFileSync(join(tree, 'deploy', 'cluster-configuration.yaml'), 'utf8');
  });
  afterAll(() => rmSync(dirname(tree), { recursive: true, force: true }));

  it('keeps every key of the template, sets the three ks-bundle keys, and adds only telemetry_enabled, which playbooks/telemetry.yaml reads', () => {
    const r = renderClusterConfiguration(template, { registry: '10.0.0.1:5080', storageClass: 'local-path' });
    expect(r.problems).toEqual([]);
    const upstream = yaml.load(template) as { spec: Record<string, unknown> };
    const ours = yaml.load(r.text) as { kind: string; metadata: unknown; spec: Record<string, any> };
    expect(ours.kind).toBe('ClusterConfiguration');
    expect(ours.metadata).toEqual((yaml.load(template) as { metadata: unknown }).metadata);
    const extra = paths(ours.spec).filter((p) => !paths(upstream.spec).includes(p));
    expect(extra).toEqual(['telemetry_enabled']);
    expect(readFileSync(join(tree, 'playbooks', 'telemetry.yaml'), 'utf8')).toMatch(/telemetry_enabled \| default\(true\)/);
    expect(ours.spec.local_registry).toBe('10.0.0.1:5080');
    expect(ours.spec.persistence.storageClass).toBe('local-path');
    expect(ours.spec.telemetry_enabled).toBe(false);
  });

  it("merges the user's keys where the template has them; unknown keys, wrong types and ks-bundle's keys are problems", () => {
    const r = renderClusterConfiguration(template, {
      registry: 'r:5080',
      storageClass: 'rbd',
      userSpec: { common: { core: { console: { port: 30990 } } }, devops: { enabled: true }, devopz: { enabled: true }, alerting: { enabled: 'yes' }, local_registry: 'x', persistence: { storageClass: 'y' } },
    });
    expect(r.problems.map((p) => p.path)).toEqual(['devopz', 'alerting.enabled', 'local_registry', 'persistence.storageClass']);
    expect((r.doc.spec as any).common.core.console.port).toBe(30990);
    expect(r.enabledComponents).toEqual(['devops']);
  });

  it("reads ks-installer's log lines as installRunner.py writes them", () => {
    const runner = readFileSync(join(tree, 'controller', 'installRunner.py'), 'utf8');
    // The format strings, from the upstream source, filled in as Python's str.format would.
    const fmt = (pattern: string, ...args: string[]) => {
      expect(runner).toContain(`"${pattern}"`);
      let i = 0;
      return pattern.replace(/\{\}/g, () => args[i++]!);
    };
    const welcome = readFileSync(join(tree, 'roles', 'check-result', 'templates', 'welcome.j2'), 'utf8').split('\n').slice(0, 3).join('\n');
    const ok = [fmt('Start installing {}', 'monitoring'), fmt('task {} status is {}  ({}/{})', 'monitoring', 'successful', '1', '2')].join('\n');
    expect(readInstallerLog(ok)).toMatchObject({ outcome: 'running', started: ['monitoring'], finished: { done: 1, total: 2, last: 'monitoring successful' } });
    expect(readInstallerLog(`${ok}\n${welcome}\n`).outcome).toBe('succeeded');
    const failed = readInstallerLog([ok, fmt('task {} status is {}  ({}/{})', 'multicluster', 'failed', '2', '2'), fmt("Task '{}' failed:", 'multicluster')].join('\n'));
    expect(failed).toMatchObject({ outcome: 'failed', reason: 'task multicluster status is failed  (2/2)' });
    expect(runner).toContain('print("Failed to ansible-playbook result-info.yaml")');
    expect(readInstallerLog('Failed to ansible-playbook result-info.yaml').outcome).toBe('failed');
  });
});
