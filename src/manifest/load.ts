import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, ValidationError, formatProblem, type Problem } from '../errors.js';
import { sha256OfString } from '../store/hashing.js';
import { Checker } from './checker.js';
import type { Manifest } from './types.js';
import type { BuildMachineArchives } from './env.js';
import { loadUpstreams } from './upstreams.js';
import { validateManifest } from './validate.js';
import { parseYamlWithPositions } from './yaml-positions.js';

/**
 * A check a content kind adds to validation, so its problems join the others with their file:line (the kinds sit
 * above manifest/ in the layering, so they are passed in rather than imported).
 */
export type ManifestCheck = (manifest: Manifest, c: Checker) => void;

export interface LoadOptions {
  /** Folder of shared upstream definitions; found next to the manifest's folder when not given. */
  reposDir?: string;
  checks?: ManifestCheck[];
  /** Told each warning (`file:line:column: path: message`); warnings are dropped when not given. */
  onWarning?: (message: string) => void;
  /**
   * The archives this machine's own apt uses, for defaults like `${KS_BUNDLE_DEBIAN_MIRROR:-build-machine:debian}`
   * (read by the caller: apt sources are src/apt/'s to parse). Without it such a default does not apply.
   */
  buildMachine?: BuildMachineArchives;
}

/** Read, parse and validate a manifest. Throws a ValidationError listing every problem with file:line:column. */
export async function loadManifest(path: string, opts: LoadOptions = {}): Promise<Manifest> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err: any) {
    throw new InputError(`${path}: cannot read the manifest (${err.code ?? err.message})`, { hint: 'Give the path of a manifest with -m, e.g. -m manifests/demo.yaml' });
  }
  const problems: Problem[] = [];
  const reposDir = opts.reposDir ?? (await findReposDir(dirname(file)));
  const upstreams = await loadUpstreams(reposDir, problems);
  let parsed;
  try {
    parsed = parseYamlWithPositions(text, file);
  } catch (err: any) {
    problems.push({ file, line: err.line ?? 1, column: err.column ?? 1, path: '', message: err.message });
    throw new ValidationError(file, problems);
  }
  const c = new Checker(file, parsed.positions);
  const manifest = validateManifest(c, parsed.value, { file, sha256: sha256OfString(text), baseDir: dirname(file), upstreams, buildMachine: opts.buildMachine });
  for (const check of opts.checks ?? []) check(manifest, c);
  await c.settle();
  for (const w of c.warnings) opts.onWarning?.(formatProblem(w));
  problems.push(...c.problems);
  if (problems.length) throw new ValidationError(file, problems, 'Fix the lines above; the manifest format is in the README under "The manifest".');
  return manifest;
}

async function findReposDir(manifestDir: string): Promise<string | undefined> {
  const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (const candidate of [join(manifestDir, '..', 'repos'), join(manifestDir, 'repos'), join(packageRoot, 'repos')]) {
    try {
      if ((await stat(candidate)).isDirectory()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
