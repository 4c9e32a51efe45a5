/**
 * The CycloneDX JavaScript library's JSON schema validator (with ajv), installed into its own folder under the test
 * cache with `npm install --prefix`, apart from the project's dependencies: the oracle does not share the code
 * under test's copy of the library.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CACHE = process.env.KS_BUNDLE_TEST_CACHE ?? '/var/cache/ks-bundle-test';
const PACKAGES = ['@cyclonedx/cyclonedx-library@10', 'ajv@8', 'ajv-formats@3', 'ajv-formats-draft2019@1'];

function validatorDir(): string {
  const dir = join(CACHE, 'cdx-validator-v1');
  if (existsSync(join(dir, 'validate.cjs'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('npm', ['install', '--prefix', tmp, '--no-audit', '--no-fund', '--no-save', ...PACKAGES], { stdio: 'pipe' });
  writeFileSync(
    join(tmp, 'validate.cjs'),
    `const CDX = require('@cyclonedx/cyclonedx-library');
const text = require('fs').readFileSync(process.argv[2], 'utf8');
const version = JSON.parse(text).specVersion;
new CDX.Validation.JsonStrictValidator(version).validate(text).then((err) => {
  if (err === null) { console.log('valid CycloneDX ' + version); return; }
  console.error(JSON.stringify(err, null, 2)); process.exitCode = 1;
}, (e) => { console.error(String(e)); process.exitCode = 2; });
`,
  );
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** Validate a CycloneDX JSON file against the official schema (strict: no unknown properties); returns stdout. */
export function validateCycloneDx(file: string): string {
  const dir = validatorDir();
  return execFileSync(process.execPath, [join(dir, 'validate.cjs'), file], { cwd: dir, encoding: 'utf8' });
}
