import { Command } from 'commander';

export function diffCommand(): Command {
  return new Command('diff')
    .description('What changed between two bundles or two locks: per kind, added, removed and changed artifacts (exit 0 either way)')
    .argument('<old>', 'a bundle (.tar, .tar.gz, .parts, folder) or a lock file')
    .argument('<new>', 'a bundle or a lock file')
    .option('--json', '{added: [{kind, name, version}], removed: [...], changed: [{kind, name, from, to}]}')
    .addHelpText(
      'after',
      '\nImages by name:tag (a moved tag is one change, digest to digest), debs by package and version, wheels by\n' +
        'project and version, files by name and sha256. A bundle is verified before its lock is read; a lock\n' +
        '(<bundle>.lock.yaml, written beside every bundle) is read at once.\n' +
        '\nExample:\n  ks-bundle diff bundles/ks-3.4.0.tar.lock.yaml bundles/ks-3.4.1.tar.lock.yaml',
    )
    .action(async (oldPath: string, newPath: string, o: { json?: boolean }) => (await import('./diff-action.js')).diffAction(oldPath, newPath, o));
}
