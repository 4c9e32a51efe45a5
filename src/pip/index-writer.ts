/**
 * The bundle's pip index, rendered as bytes: a static PEP 503 tree (works with any static web server) plus the
 * PEP 691 JSON of each page beside it, so the mirror can answer either without rendering at request time.
 *   repos/pip/simple/index.html|index.json, repos/pip/simple/<project>/index.html|index.json,
 *   repos/pip/files/<wheel> and <wheel>.metadata (PEP 658/714).
 */
import { htmlEscape } from './simple-index.js';

export const PIP_ROOT = 'repos/pip';
/** Pages sit in simple/<project>/, wheels in files/: served as they are, under /pypi/ (the mirror) or any web server. */
const FILES_LINK_PREFIX = '../../files/';

export interface IndexedWheel {
  project: string;
  filename: string;
  sha256: string;
  requiresPython?: string;
  /** sha256 of the `<wheel>.metadata` file written beside it. */
  metadataSha256?: string;
}

function link(filename: string): string {
  return FILES_LINK_PREFIX + encodeURIComponent(filename);
}

export function renderProjectHtml(project: string, wheels: IndexedWheel[]): string {
  const lines = [
    '<!DOCTYPE html>',
    '<html>',
    `<head><meta name="pypi:repository-version" content="1.1"><title>Links for ${htmlEscape(project)}</title></head>`,
    '<body>',
    `<h1>Links for ${htmlEscape(project)}</h1>`,
  ];
  for (const w of sorted(wheels)) {
    let attrs = '';
    if (w.requiresPython) attrs += ` data-requires-python="${htmlEscape(w.requiresPython)}"`;
    if (w.metadataSha256) attrs += ` data-dist-info-metadata="sha256=${w.metadataSha256}" data-core-metadata="sha256=${w.metadataSha256}"`;
    lines.push(`<a href="${htmlEscape(link(w.filename))}#sha256=${w.sha256}"${attrs}>${htmlEscape(w.filename)}</a><br/>`);
  }
  lines.push('</body>', '</html>', '');
  return lines.join('\n');
}

export function renderProjectJson(project: string, wheels: IndexedWheel[]): string {
  const files = sorted(wheels).map((w) => ({
    filename: w.filename,
    url: link(w.filename),
    hashes: { sha256: w.sha256 },
    ...(w.requiresPython ? { 'requires-python': w.requiresPython } : {}),
    // PEP 714's key only: pip 22.3-23.0 crash on a `dist-info-metadata` object in JSON (the reason PEP 714 renamed it).
    ...(w.metadataSha256 ? { 'core-metadata': { sha256: w.metadataSha256 } } : {}),
  }));
  return JSON.stringify({ meta: { 'api-version': '1.1' }, name: project, versions: versionsOf(wheels), files }) + '\n';
}

export function renderRootHtml(projects: string[]): string {
  const links = [...projects].sort().map((p) => `<a href="${htmlEscape(encodeURIComponent(p))}/">${htmlEscape(p)}</a><br/>`);
  return ['<!DOCTYPE html>', '<html>', '<head><meta name="pypi:repository-version" content="1.1"><title>Simple index</title></head>', '<body>', ...links, '</body>', '</html>', ''].join('\n');
}

export function renderRootJson(projects: string[]): string {
  return JSON.stringify({ meta: { 'api-version': '1.1' }, projects: [...projects].sort().map((name) => ({ name })) }) + '\n';
}

function sorted(wheels: IndexedWheel[]): IndexedWheel[] {
  return [...wheels].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
}

function versionsOf(wheels: IndexedWheel[]): string[] {
  return [...new Set(wheels.map((w) => w.filename.split('-')[1]!))].sort();
}

/** Every generated page of the index: path inside the bundle → text. */
export function renderIndex(wheels: IndexedWheel[]): Map<string, string> {
  const byProject = new Map<string, IndexedWheel[]>();
  for (const w of wheels) byProject.set(w.project, [...(byProject.get(w.project) ?? []), w]);
  const out = new Map<string, string>();
  const projects = [...byProject.keys()].sort();
  out.set(`${PIP_ROOT}/simple/index.html`, renderRootHtml(projects));
  out.set(`${PIP_ROOT}/simple/index.json`, renderRootJson(projects));
  for (const p of projects) {
    out.set(`${PIP_ROOT}/simple/${p}/index.html`, renderProjectHtml(p, byProject.get(p)!));
    out.set(`${PIP_ROOT}/simple/${p}/index.json`, renderProjectJson(p, byProject.get(p)!));
  }
  return out;
}
