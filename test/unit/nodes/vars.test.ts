import { describe, expect, it } from 'vitest';
import { checkVars, parseVars, redactVars, type VarsSchema } from '../../../src/nodes/vars.js';
import { VARS_YML_TEMPLATE } from '../../../src/nodes/templates.js';

const FILE = '/conf/vars.yml';
const SCHEMA: VarsSchema = {
  types: new Map([
    ['kube_network_plugin', 'string'],
    ['kube_version', 'string'],
    ['helm_enabled', 'bool'],
    ['calico_mtu', 'number'],
    ['kube_apiserver_node_port_range', 'string'],
    ['rbd_provisioner_enabled', 'bool'],
    ['rbd_provisioner_monitors', 'any'],
    ['rbd_provisioner_secret', 'string'],
    ['rbd_provisioner_storage_class', 'string'],
    ['local_volume_provisioner_enabled', 'bool'],
    ['supplementary_addresses_in_ssl_keys', 'list'],
    ['node_labels', 'dict'],
  ]),
  owned: new Map([['files_repo', 'it points at the offline mirror']]),
};

describe('conf/vars.yml', () => {
  it('the shipped template parses with no problem and no note', () => {
    const p = parseVars(VARS_YML_TEMPLATE, FILE);
    expect(p.problems).toEqual([]);
    expect(p.notes).toEqual([]);
    expect(p.vars).toEqual({ kube_network_plugin: 'calico' });
  });

  it('unknown keys, wrong types and mirror-owned keys are all reported at once, each with its line', () => {
    const text = [
      'kube_network_plugn: calico',
      'helm_enabled: "maybe"',
      'calico_mtu: big',
      'kube_version: 1.10',
      'files_repo: http://example.invalid/files',
      'supplementary_addresses_in_ssl_keys: 10.0.0.1',
      'node_labels: [a]',
      'kube_apiserver_node_port_range: 30000',
      '',
    ].join('\n');
    const parsed = parseVars(text, FILE);
    expect(parsed.problems).toEqual([]);
    const problems = checkVars(parsed, FILE, SCHEMA);
    expect(problems.map((p) => [p.line, p.path])).toEqual([
      [1, 'kube_network_plugn'],
      [2, 'helm_enabled'],
      [3, 'calico_mtu'],
      [4, 'kube_version'],
      [5, 'files_repo'],
      [6, 'supplementary_addresses_in_ssl_keys'],
      [7, 'node_labels'],
    ]);
    expect(problems.every((p) => p.file === FILE)).toBe(true);
    expect(problems[0]!.message).toContain('did you mean kube_network_plugin?');
    expect(problems[3]!.message).toContain('YAML read it as the number 1.1; quote it');
    expect(problems[4]!.message).toMatch(/set by ks-bundle \(it points at the offline mirror\)/);
  });

  it("the seed's Ceph keys are read as kubespray's rbd_provisioner_* with a note; a list of monitors becomes kubespray's comma-separated string", () => {
    const text = ['ceph_rbd_enabled: true', 'ceph_rbd_monitors:', '  - 172.24.0.1:6789', '  - 172.24.0.2:6789', 'ceph_rbd_admin_secret: AQAnwihbXo+uDx==', 'ceph_rbd_imageFormat: 2', ''].join('\n');
    const p = parseVars(text, FILE);
    expect(p.problems).toEqual([]);
    expect(p.vars).toEqual({ rbd_provisioner_enabled: true, rbd_provisioner_monitors: '172.24.0.1:6789,172.24.0.2:6789', rbd_provisioner_secret: 'AQAnwihbXo+uDx==', rbd_provisioner_image_format: '2' });
    expect(p.lines.get('rbd_provisioner_monitors')).toBe(2);
    expect(p.notes[0]).toBe(`${FILE}:1: ceph_rbd_enabled is a 1.x key; it was read as kubespray's rbd_provisioner_enabled (rename it)`);
    expect(p.notes.join('\n')).not.toContain('AQAnwihbXo');
  });

  it('a seed default-class key sets ks_bundle_default_storage_class; two of them, or one and the new key, are an error naming both', () => {
    expect(parseVars('ceph_rbd_enabled: true\nceph_rbd_storage_class: ceph\nceph_rbd_is_default_class: true\n', FILE).vars.ks_bundle_default_storage_class).toBe('ceph');
    const text = 'local_volume_provisioner_is_default_class: true\nceph_rbd_is_default_class: yes\n';
    const p = parseVars(text, FILE);
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0]!.message).toContain('local_volume_provisioner_is_default_class (line 1)');
    expect(p.problems[0]!.message).toContain('ceph_rbd_is_default_class (line 2)');
    const both = parseVars('ks_bundle_default_storage_class: rbd\nceph_rbd_is_default_class: true\n', FILE);
    expect(both.problems[0]!.message).toContain('ks_bundle_default_storage_class (line 1)');
  });

  it('GlusterFS switched on is an error that says why; its other keys are notes', () => {
    const text = 'glusterfs_provisioner_enabled: true\nglusterfs_provisioner_resturl: http://10.0.0.4:8080\njwt_admin_key: 123456\n';
    const p = parseVars(text, FILE);
    expect(p.problems.map((x) => [x.line, x.path])).toEqual([[1, 'glusterfs_provisioner_enabled']]);
    expect(p.problems[0]!.message).toMatch(/removed in Kubernetes 1\.26/);
    expect(p.notes).toHaveLength(2);
    expect(p.notes.join()).not.toContain('123456');
  });

  it('a seed key and its kubespray name both set is an error at the seed key', () => {
    const p = parseVars('rbd_provisioner_pool: kube\nceph_rbd_pool: rbd\n', FILE);
    expect(p.problems.map((x) => [x.line, x.path])).toEqual([[2, 'ceph_rbd_pool']]);
  });

  it('bad YAML, a key given twice and an alias bomb name the line and never quote the text', () => {
    let p = parseVars('a: 1\nrbd_provisioner_secret: "s3cr3t\nb: [\n', FILE);
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0]!.message).toMatch(/^not valid YAML/);
    expect(JSON.stringify(p.problems)).not.toContain('s3cr3t');
    p = parseVars('kube_version: v1.26.15\nhelm_enabled: true\nkube_version: v1.26.14\n', FILE);
    expect(p.problems.map((x) => x.line)).toEqual([3]);
    expect(p.problems[0]!.message).toMatch(/duplicated mapping key/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    p = parseVars(bomb, FILE);
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0]!.message).toMatch(/expands to more than/);
  });

  it('a wrong type on a secret key does not show the value; redactVars hides secrets', () => {
    const parsed = parseVars('rbd_provisioner_secret: [AQAnwihbXo]\n', FILE);
    const problems = checkVars(parsed, FILE, SCHEMA);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toBe('must be a string');
    expect(redactVars({ rbd_provisioner_secret: 'k', rbd_provisioner_user_secret_name: 'ceph-secret-user', kube_version: 'v1' })).toEqual({
      rbd_provisioner_secret: '***',
      rbd_provisioner_user_secret_name: 'ceph-secret-user',
      kube_version: 'v1',
    });
  });
});
