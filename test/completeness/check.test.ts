import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCompleteness, formatMissing, scanKubernetesYaml, viewOfBundleDir, viewOfManifest } from '../../src/completeness/index.js';
import { loadManifest } from '../../src/manifest/load.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (n: string) => join(here, 'fixtures', n);

describe('scanKubernetesYaml', () => {
  it('finds every image of every workload kind, normalised like docker', async () => {
    const scan = scanKubernetesYaml(await readFile(fixture('workloads.yaml'), 'utf8'));
    expect(scan.images.map((i) => [i.image, i.object])).toEqual([
      ['docker.io/library/busybox:1.36', 'Deployment/web (initContainer wait)'],
      ['docker.io/library/nginx:1.25.2-alpine', 'Deployment/web (container web)'],
      ['quay.io/prometheus/nginx-exporter:1.1.0', 'Deployment/web (container metrics)'],
      ['registry.example.com:5000/shop/report@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'CronJob/report (container report)'],
      ['docker.io/library/busybox:latest', 'DaemonSet/agent (container agent)'],
    ]);
    expect(scan.invalid).toHaveLength(1);
    expect(scan.invalid[0]!.value).toBe('{{ debug_image }}');
    expect(scan.invalid[0]!.object).toBe('Pod/debug (container debug)');
  });
});

describe('checkCompleteness on a fixture manifest', () => {
  it('fails naming the image that is not in spec.images and the file that wants it', async () => {
    const m = await loadManifest(fixture('manifest.yaml'));
    const view = viewOfManifest(m, new Map([['workloads.yaml', await readFile(fixture('workloads.yaml'), 'utf8')]]));
    const r = checkCompleteness(view);
    expect(r.missing).toEqual([{ image: 'quay.io/prometheus/nginx-exporter:1.1.0', wantedBy: 'manifests/workloads.yaml (Deployment/web (container metrics))' }]);
    expect(formatMissing(r.missing)).toEqual(['image quay.io/prometheus/nginx-exporter:1.1.0, wanted by manifests/workloads.yaml (Deployment/web (container metrics))']);
    // The templated image cannot be checked: said, not silently passed.
    expect(r.warnings.join('\n')).toContain('{{ debug_image }}');
  });

  it('passes once the image is added', async () => {
    const m = await loadManifest(fixture('manifest.yaml'));
    const view = viewOfManifest(m, new Map([['workloads.yaml', await readFile(fixture('workloads.yaml'), 'utf8')]]));
    const r = checkCompleteness({ ...view, images: [...view.images, 'quay.io/prometheus/nginx-exporter:1.1.0'] });
    expect(r.missing).toEqual([]);
    expect(r.checked.images).toBe(5);
  });
});

describe('viewOfBundleDir', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('reads index.json names, repos/files and manifests/ of an unpacked bundle', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-completeness-'));
    dirs.push(dir);
    await mkdir(join(dir, 'repos/images'), { recursive: true });
    const ann = (n: string) => ({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: 'sha256:' + '0'.repeat(64), size: 1, annotations: { 'org.opencontainers.image.ref.name': n } });
    await writeFile(join(dir, 'repos/images/index.json'), JSON.stringify({ schemaVersion: 2, manifests: [ann('docker.io/library/busybox:1.36'), ann('docker.io/library/nginx:1.25.2-alpine')] }));
    await mkdir(join(dir, 'repos/files/dl.k8s.io/release'), { recursive: true });
    await writeFile(join(dir, 'repos/files/dl.k8s.io/release/kubeadm'), 'x');
    await mkdir(join(dir, 'manifests'), { recursive: true });
    await writeFile(join(dir, 'manifests/workloads.yaml'), await readFile(fixture('workloads.yaml')));
    const view = await viewOfBundleDir(dir, ['amd64']);
    expect(view.files).toEqual(['repos/files/dl.k8s.io/release/kubeadm']);
    const r = checkCompleteness(view);
    expect(r.missing.map((x) => x.image).sort()).toEqual([
      'docker.io/library/busybox:latest',
      'quay.io/prometheus/nginx-exporter:1.1.0',
      'registry.example.com:5000/shop/report@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    ]);
  });
});
