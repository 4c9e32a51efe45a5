/** The apt source a node uses for the bundle's repo: deb822 `.sources` text and the one-line form. Pure. */
import type { Target } from '../manifest/types.js';
import { COMPONENT, NODE_KEYRING_PATH } from './repo.js';

export interface AptSourceText {
  /** Contents of `/etc/apt/sources.list.d/ks-bundle.sources`. */
  deb822: string;
  /** `deb [signed-by=...] http://<taskbox>:5080/apt/<os> <codename> main` */
  line: string;
  keyringPath: string;
}

export function renderAptSource(mirrorBaseUrl: string, target: Pick<Target, 'os' | 'codename'>): AptSourceText {
  const uri = `${mirrorBaseUrl.replace(/\/+$/, '')}/apt/${target.os}`;
  return {
    deb822: ['Types: deb', `URIs: ${uri}`, `Suites: ${target.codename}`, `Components: ${COMPONENT}`, `Signed-By: ${NODE_KEYRING_PATH}`, ''].join('\n'),
    line: `deb [signed-by=${NODE_KEYRING_PATH}] ${uri} ${target.codename} ${COMPONENT}\n`,
    keyringPath: NODE_KEYRING_PATH,
  };
}
