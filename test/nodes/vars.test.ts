import { describe, it, expect } from 'vitest';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { validateVars, loadVars, redactVars } from '../../src/nodes/vars.js';
import { VARS_YML_TEMPLATE, HOSTS_INI_TEMPLATE } from '../../src/nodes/templates.js';
import { parseInventory } from '../../src/nodes/inventory.js';
import { validateInventory } from '../../src/nodes/validate-inventory.js';
import { ValidationError } from '../../src/errors.js';
import { requireTools } from '../support/tools.js';

const set = (text: string, changes: Record<string, string>): string => {
  let out = text;
  for (const [k, v] of Object.entries(changes)) {
    const re = new RegExp(`^${k}:.*$`, 'm');
    out = re.test(out) ? out.replace(re, `${k}: ${v}`) : out + `${k}: ${v}\n`;
  }
  return out;
};

describe('vars.yml', () => {
  it('the template is valid for all-in-one, calico and local volume by default', () => {
    const v = loadVars(VARS_YML_TEMPLATE, { mode: 'all-in-one' });
    expect(v.networkPlugin).toBe('calico');
    expect(v.defaultStorageClass).toBe('local');
    expect(v.storage).toEqual({ localVolume: true, cephRbd: false, glusterfs: false });
    expect(v.all['local_volume_provisioner_base_dir']).toBe('/mnt/disks');
    expect(v.all['ceph_rbd_fsType']).toBe('ext4');
    expect(v.all['ceph_rbd_imageFormat']).toBe('1');
  });

  it('the network plugin defaults to calico when absent; an unknown one names its line', () => {
    expect(loadVars('local_volume_provisioner_enabled: true\n', { mode: 'all-in-one' }).networkPlugin).toBe('calico');
    const { problems } = validateVars('a: 1\nkube_network_plugin: weavenet\n', { mode: 'all-in-one' });
    expect(problems.map((p) => [p.line, p.path])).toEqual([[2, 'kube_network_plugin']]);
  });

  it('two default storage classes is an error naming both', () => {
    const text = set(VARS_YML_TEMPLATE, { ceph_rbd_is_default_class: 'true' });
    const { problems } = validateVars(text, { mode: 'all-in-one' });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain('local_volume_provisioner_is_default_class');
    expect(problems[0]!.message).toContain('ceph_rbd_is_default_class');
    expect(problems[0]!.line).toBe(text.split('\n').findIndex((l) => l.startsWith('ceph_rbd_is_default_class')) + 1);
  });

  it('local volume is all-in-one only', () => {
    const { problems } = validateVars(VARS_YML_TEMPLATE, { mode: 'multi-node' });
    expect(problems.map((p) => p.path)).toEqual(['local_volume_provisioner_enabled']);
    expect(problems[0]!.message).toContain('all-in-one only');
  });

  it('enabled Ceph RBD and GlusterFS need their keys; placeholders count as missing; secrets are not echoed', () => {
    const secret = 'AQAnwihbXo+uDxAAD0HmWziVgTaAdai90IzZ6Q==';
    const text = set(VARS_YML_TEMPLATE, {
      local_volume_provisioner_enabled: 'false',
      local_volume_provisioner_is_default_class: 'false',
      ceph_rbd_enabled: 'true',
      ceph_rbd_admin_secret: secret,
      glusterfs_provisioner_enabled: 'yes',
      glusterfs_provisioner_resturl: 'http://10.0.0.4:8080',
      glusterfs_provisioner_gidMin: '50000',
      glusterfs_provisioner_gidMax: '40000',
    });
    const { problems } = validateVars(text, { mode: 'multi-node' });
    expect(problems.map((p) => p.path).sort()).toEqual(
      ['ceph_rbd_monitors', 'ceph_rbd_user_secret', 'glusterfs_provisioner_clusterid', 'glusterfs_provisioner_gidMax', 'jwt_admin_key'].sort(),
    );
    let err: unknown;
    try {
      loadVars(set(text, { ceph_rbd_pool: '""' }), { mode: 'multi-node' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect(String((err as Error).message)).toContain('ceph_rbd_pool');
    expect(String((err as Error).message)).not.toContain(secret);
    expect(redactVars({ ceph_rbd_admin_secret: secret, ceph_rbd_pool: 'rbd', jwt_admin_key: 'k', glusterfs_provisioner_secretName: 'heketi-secret' }))
      .toEqual({ ceph_rbd_admin_secret: '***', ceph_rbd_pool: 'rbd', jwt_admin_key: '***', glusterfs_provisioner_secretName: 'heketi-secret' });
  });

  it('a YAML error names the line without quoting the source (which may hold a secret)', () => {
    const { problems } = validateVars('a: 1\nceph_rbd_admin_secret: "s3cr3t\nb: [\n', { mode: 'all-in-one' });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/^not valid YAML/);
    expect(JSON.stringify(problems)).not.toContain('s3cr3t');
  });

  it('a key written as a string yes counts as Ansible reads it; garbage in a flag is named', () => {
    const { problems } = validateVars('ceph_rbd_enabled: maybe\n', { mode: 'all-in-one' });
    expect(problems.map((p) => [p.line, p.path])).toEqual([[1, 'ceph_rbd_enabled']]);
  });
});

describe('hosts.ini template', () => {
  it('is valid for multi-node and agrees with ansible-inventory', () => {
    requireTools('ansible-inventory');
    const inv = parseInventory(HOSTS_INI_TEMPLATE, 'hosts.ini');
    expect(validateInventory(inv, { mode: 'multi-node' })).toEqual([]);
    expect([...inv.groups.keys()]).toEqual(expect.arrayContaining(['all', 'kube-master', 'kube-node', 'etcd', 'k8s-cluster']));
    const dir = mkdtempSync(join(tmpdir(), 'ksb-tpl-'));
    try {
      writeFileSync(join(dir, 'hosts.ini'), HOSTS_INI_TEMPLATE);
      const r = spawnSync('ansible-inventory', ['-i', join(dir, 'hosts.ini'), '--list'], {
        encoding: 'utf8', env: { ...process.env, ANSIBLE_INVENTORY_ENABLED: 'ini', ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true' },
      });
      expect(r.status, r.stderr).toBe(0);
      const theirs = JSON.parse(r.stdout) as { _meta: { hostvars: Record<string, unknown> } };
      for (const h of inv.hosts.values()) expect(h.vars).toEqual(theirs._meta.hostvars[h.name]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
