import { describe, expect, it } from 'vitest';
import { sourcesOf } from '../../../src/manifest/alternates.js';

describe('sourcesOf', () => {
  const alternates = [
    { prefix: 'docker.io/kubesphere/', to: ['registry.cn-beijing.aliyuncs.com/kubesphereio/', 'quay.io/kubesphere/'] },
    { prefix: 'https://github.com/', to: ['https://files.mirror.example/github/'] },
  ];

  it('tries the original name first, then each alternate in order, the prefix replaced', () => {
    expect(sourcesOf('docker.io/kubesphere/ks-console:v3.4.1', alternates)).toEqual([
      'docker.io/kubesphere/ks-console:v3.4.1',
      'registry.cn-beijing.aliyuncs.com/kubesphereio/ks-console:v3.4.1',
      'quay.io/kubesphere/ks-console:v3.4.1',
    ]);
    expect(sourcesOf('https://github.com/etcd-io/etcd/releases/download/v3.5.16/etcd.tar.gz', alternates)).toEqual([
      'https://github.com/etcd-io/etcd/releases/download/v3.5.16/etcd.tar.gz',
      'https://files.mirror.example/github/etcd-io/etcd/releases/download/v3.5.16/etcd.tar.gz',
    ]);
  });

  it('leaves a name no prefix matches with itself only', () => {
    expect(sourcesOf('docker.io/library/busybox:1.36', alternates)).toEqual(['docker.io/library/busybox:1.36']);
    // A prefix is matched as text: docker.io/kubesphere-x/ is another namespace.
    expect(sourcesOf('docker.io/kubesphere-x/a:1', alternates)).toEqual(['docker.io/kubesphere-x/a:1']);
  });
});
