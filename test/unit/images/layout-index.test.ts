import { describe, expect, it } from 'vitest';
import { parseLayoutIndex, refNamesOfIndex } from '../../../src/images/layout.js';

/** index.json as skopeo writes an OCI layout (`skopeo copy … oci:DIR:TAG`): one annotated descriptor per tag. */
const SKOPEO_INDEX = JSON.stringify({
  schemaVersion: 2,
  manifests: [
    {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: 'sha256:1c892ed6824f61e1002e41fc8991e502f284162e9b7090520fc3168fbbfda14f',
      size: 610,
      annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/busybox:1.36' },
    },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: 'sha256:' + 'a'.repeat(64),
      size: 407,
    },
  ],
});

describe('the OCI layout index', () => {
  it('names the annotated refs in their order, and skips a descriptor without a name', () => {
    expect(refNamesOfIndex(SKOPEO_INDEX)).toEqual(['docker.io/library/busybox:1.36']);
    expect(parseLayoutIndex(SKOPEO_INDEX).map((d) => d.size)).toEqual([610, 407]);
  });

  it('reads an index without manifests as empty, and refuses text that is not JSON', () => {
    expect(refNamesOfIndex('{"schemaVersion":2}')).toEqual([]);
    expect(refNamesOfIndex('null')).toEqual([]);
    expect(() => refNamesOfIndex('{')).toThrow(SyntaxError);
  });
});
