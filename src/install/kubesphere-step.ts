import { setTimeout as sleep } from 'node:timers/promises';
import { KsBundleError } from '../errors.js';
import type { NodeSession } from '../nodes/session.js';
import { readInstallerLog, tail } from '../kubesphere/installer-log.js';
import type { InstallContext } from './offline.js';
import type { Step } from './steps.js';

const KUBECTL = 'kubectl --kubeconfig /etc/kubernetes/admin.conf';
const ON_NODE = '/var/lib/ks-bundle/kubesphere';
const NS = 'kubesphere-system';
/** ks-installer's own wait for the console is 30 × 30 s; the whole minimal install takes longer on a small node. */
const POLL_MS = 10_000;

/**
 * KubeSphere on the cluster kubespray made, from the first control-plane host: mark the one default StorageClass,
 * apply ks-installer's manifests (its image and every image it pulls named through the mirror's registry) and the
 * rendered ClusterConfiguration, then follow ks-installer's log until it says the result.
 */
export function kubesphereStep(hooks: { openMaster: (c: InstallContext) => Promise<NodeSession>; confirm: (c: InstallContext) => Promise<void> }): Step<InstallContext> {
  return {
    id: 'kubesphere',
    title: 'KubeSphere, with ks-installer from the mirror',
    hosts: (c) => (c.plan?.kubesphere ? [c.masterName ?? '?'] : []),
    inputs: (c) => c.plan?.kubesphere?.clusterConfigurationText ?? '',
    async run(c) {
      const ks = c.plan?.kubesphere;
      if (!ks) return { status: 'skipped', detail: 'the bundle has no KubeSphere (no manifests/kubesphere-installer.yaml)' };
      await hooks.confirm(c);
      const s = await hooks.openMaster(c);
      const defaultClass = c.plan!.storage.defaultClass!;
      await s.sudo(`mkdir -p -m 700 ${ON_NODE}`);
      await s.upload(ks.installerText, `${ON_NODE}/kubesphere-installer.yaml`, { mode: 0o600 });
      await s.upload(ks.clusterConfigurationText, `${ON_NODE}/cluster-configuration.yaml`, { mode: 0o600 });
      // kubespray marks only local-path's class as the default; this marks whichever class is the one.
      await s.sudo(`${KUBECTL} patch storageclass '${defaultClass}' -p '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}'`);
      await s.sudo(`${KUBECTL} apply -f ${ON_NODE}/kubesphere-installer.yaml`);
      await s.sudo(`${KUBECTL} apply -f ${ON_NODE}/cluster-configuration.yaml`);
      const progress = c.o.onProgress;
      progress({ type: 'start', id: 'ks-installer', label: 'ks-installer', unit: 'tasks' });
      const deadline = Date.now() + c.o.kubesphereTimeoutMs;
      let log = '';
      for (;;) {
        const version = (await s.sudo(`${KUBECTL} -n ${NS} get cc ks-installer -o jsonpath='{.status.core.version}'`, { allowFail: true })).stdout.trim();
        log = (await s.sudo(`${KUBECTL} -n ${NS} logs deploy/ks-installer --tail=400`, { allowFail: true })).stdout;
        const p = readInstallerLog(log);
        if (p.finished) progress({ type: 'advance', id: 'ks-installer', bytes: p.finished.done, total: p.finished.total });
        if (p.outcome === 'failed') {
          throw new KsBundleError('FAILED', `ks-installer failed: ${p.reason}\nthe end of its log:\n${tail(log)}`, {
            hint: `The whole log: ${KUBECTL} -n ${NS} logs deploy/ks-installer. Fix the cause and run the same command again: the finished steps are skipped.`,
          });
        }
        if (p.outcome === 'succeeded' || version) break;
        if (Date.now() > deadline) {
          throw new KsBundleError('FAILED', `ks-installer gave no result in ${Math.round(c.o.kubesphereTimeoutMs / 60000)} min; the end of its log:\n${tail(log) || '(no log: is its pod running? kubectl -n kubesphere-system get pods)'}`);
        }
        await sleep(POLL_MS);
      }
      progress({ type: 'done', id: 'ks-installer', bytes: readInstallerLog(log).finished?.done ?? 0, cached: false });
      return { status: 'done', detail: `ks-installer finished; default StorageClass ${defaultClass}` };
    },
  };
}
