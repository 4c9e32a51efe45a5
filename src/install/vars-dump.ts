import yaml from 'js-yaml';

/** The one vars file ansible-playbook gets (`-e @file`): a mapping, each key once, in the order merged. */
export function dumpVarsFile(vars: Record<string, unknown>): string {
  return (
    '# Written by ks-bundle install: the bundle\'s defaults, conf/vars.yml over them, and the offline mirror\'s\n' +
    '# variables over both. Edit conf/vars.yml, not this file.\n' +
    yaml.dump(vars, { lineWidth: 200, noRefs: true, sortKeys: false })
  );
}
