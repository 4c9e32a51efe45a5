import { Command, InvalidArgumentError } from 'commander';
import { parseSize } from '../parts/size.js';

function size(text: string): number {
  const n = parseSize(text);
  if (n === undefined) throw new InvalidArgumentError('a size in bytes, or with K, M, G (powers of 1024, as split -b reads them): 700M, 4G');
  return n;
}

export function splitCommand(): Command {
  return new Command('split')
    .description('Cut a bundle tarball into parts of at most SIZE for small media, with a .parts file that sha256sum -c checks')
    .argument('<bundle>', 'a bundle .tar or .tar.gz')
    .requiredOption('--size <size>', 'the largest part: bytes, or K, M, G (2^10, 2^20, 2^30, as split -b)', size)
    .addHelpText(
      'after',
      '\nWrites BUNDLE.part001, BUNDLE.part002, ... (their plain concatenation is BUNDLE) and BUNDLE.parts.\n' +
        'verify, serve and install --offline take BUNDLE.parts in place of BUNDLE; a signature (BUNDLE.asc) still applies.\n' +
        '\nExample:\n  ks-bundle split bundles/demo-0.1.0.tar --size 700M\n  cd bundles && sha256sum -c demo-0.1.0.tar.parts\n  ks-bundle verify bundles/demo-0.1.0.tar.parts',
    )
    .action(async (bundle: string, o: { size: number }) => (await import('./split-action.js')).splitAction(bundle, o));
}
