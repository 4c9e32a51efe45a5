import { Command, Option } from 'commander';
import type { SbomFormat } from '../sbom/bundle-sbom.js';

export function sbomCommand(): Command {
  return new Command('sbom')
    .description('Print the SBOM of a bundle, every artifact with its purl, SHA-256 and licence where known (verifies the bundle first)')
    .argument('<bundle>', 'a bundle .tar, .tar.gz, its .parts file, or an unpacked bundle folder')
    .addOption(new Option('--format <format>', 'CycloneDX 1.6 JSON or SPDX 2.3 JSON').choices(['cyclonedx', 'spdx']).default('cyclonedx'))
    .option('-o, --output <file>', 'write it to this file instead of stdout')
    .addHelpText('after', '\nThe CycloneDX one is the sbom.cdx.json the build put in the bundle.\n\nExample:\n  ks-bundle sbom bundles/demo-0.1.0.tar --format spdx -o demo.spdx.json')
    .action(async (bundle: string, o: { format: SbomFormat; output?: string }) => (await import('./sbom-action.js')).sbomAction(bundle, o));
}
