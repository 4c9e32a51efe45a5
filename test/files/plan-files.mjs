// The plan phase of spec.files and spec.manifests, run from the built code in a process of its own (so that it can
// run inside a mount namespace with its own /etc/hosts): prints the figures and what is unavailable as JSON.
// Usage: node plan-files.mjs REPO MANIFEST CACHE
const [repo, manifestPath, cache] = process.argv.slice(2);
const { loadManifest } = await import(`${repo}/dist/manifest/load.js`);
const { planFiles } = await import(`${repo}/dist/files/collect.js`);
const { ContentStore } = await import(`${repo}/dist/store/content-store.js`);
const { Limiter } = await import(`${repo}/dist/util/concurrency.js`);
const { httpClientFromEnv } = await import(`${repo}/dist/cli/http.js`);
const http = httpClientFromEnv();
const manifest = await loadManifest(manifestPath);
const plan = await planFiles({ manifest, store: new ContentStore(cache), workDir: '/nonexistent', onProgress: () => {}, requests: new Limiter(4), http });
await http.close();
process.stdout.write(JSON.stringify({ kinds: plan.kinds, unavailable: plan.unavailable }));
