import type { ManifestCheck } from '../manifest/load.js';
import { formatReference, parseReference } from './reference.js';

/**
 * `spec.images` as part of manifest validation: every reference that does not parse is a problem at its line (all
 * of them in one run), and two spellings of one image (`busybox`, `docker.io/library/busybox:latest`) are a warning
 * naming both lines. A warning, not an error: the bundle is the same either way (the image is kept once), and image
 * lists are often pasted together from several sources, where such overlaps are normal.
 */
export const checkImageReferences: ManifestCheck = (manifest, c) => {
  const first = new Map<string, number>();
  manifest.images.forEach((raw, i) => {
    const path = `spec.images[${i}]`;
    let name: string;
    try {
      name = formatReference(parseReference(raw));
    } catch (err) {
      c.report(path, (err as Error).message);
      return;
    }
    const seen = first.get(name);
    if (seen === undefined) first.set(name, i);
    else {
      const same = manifest.images[seen] === raw ? `"${raw}" is listed again` : `"${raw}" is the same image as "${manifest.images[seen]}"`;
      c.warn(path, `${same} (spec.images[${seen}], line ${c.lineOf(`spec.images[${seen}]`)}), both ${name}; it is bundled once`);
    }
  });
};
