/**
 * The simple-API client: project pages (PEP 691 JSON preferred, PEP 503 HTML accepted), core metadata and sizes
 * without downloading wheels (the PEP 658 file when offered, else METADATA read out of the wheel upstream through
 * Range requests; only a server that answers no ranges makes it download the wheel), and verified wheel downloads
 * into the store. Every answer is cached per project / per file for the whole build (several targets share them).
 */
import { IntegrityError, KsBundleError, redactUrl } from '../errors.js';
import type { HttpClient } from '../net/client.js';
import type { DownloadResult } from '../net/download.js';
import type { ContentStore } from '../store/content-store.js';
import type { Limiter } from '../util/concurrency.js';
import type { OnProgress } from '../progress/events.js';
import { sha256OfString } from '../store/hashing.js';
import { normalizeName } from './names.js';
import { PEP691_HTML, PEP691_JSON, parseProjectPage, type IndexFile, type ProjectPage } from './simple-index.js';
import { NoRangeSupport, openRemoteZip } from './remote-zip.js';
import { readWheelMetadata, wheelMetadata } from './zip.js';

export const ACCEPT = `${PEP691_JSON}, ${PEP691_HTML};q=0.2, text/html;q=0.1`;

export interface IndexClientOptions {
  /** Base URL of the simple index, e.g. https://pypi.example.internal/simple/ */
  index: string;
  store: ContentStore;
  onProgress: OnProgress;
  http: HttpClient;
  /** Every request of this client (pages, metadata, wheels) runs through it: the build's one limiter. */
  requests: Limiter;
}

export class IndexClient {
  private readonly pages = new Map<string, Promise<ProjectPage>>();
  private readonly metadataCache = new Map<string, Promise<Buffer>>();
  private readonly downloads = new Map<string, Promise<DownloadResult>>();
  /** Wheel sizes learnt on the way (a range answer's total, a download). */
  private readonly sizes = new Map<string, number>();
  readonly index: string;

  constructor(private readonly opts: IndexClientOptions) {
    this.index = opts.index.endsWith('/') ? opts.index : opts.index + '/';
  }

  /** A project's files; a project the index does not know has none. */
  project(name: string): Promise<ProjectPage> {
    const key = normalizeName(name);
    let page = this.pages.get(key);
    if (!page) {
      page = this.fetchPage(key);
      page.catch(() => {}); // prefetches may never be awaited; the error surfaces when they are
      this.pages.set(key, page);
    }
    return page;
  }

  /** Where the index serves a project's page (PEP 503: its normalized name). */
  pageUrl(name: string): string {
    return new URL(`${encodeURIComponent(normalizeName(name))}/`, this.index).toString();
  }

  private async fetchPage(project: string): Promise<ProjectPage> {
    const url = this.pageUrl(project);
    const res = await this.opts.requests.run(() => this.opts.http.request(url, { headers: { accept: ACCEPT }, what: `pip index page of ${project}`, accept: (s) => s === 404 }));
    if (res.status === 404) return { files: [] };
    const body = res.text();
    try {
      // Relative links resolve against the URL the page finally came from.
      return parseProjectPage(body, res.headers.get('content-type'), res.url || url);
    } catch (err) {
      throw new KsBundleError('HTTP', `${redactUrl(url)}: cannot read the index page of ${project}: ${(err as Error).message}`);
    }
  }

  /** Download a wheel into the store, verified against the index's sha256 (mandatory). */
  download(file: IndexFile): Promise<DownloadResult> {
    let d = this.downloads.get(file.url);
    if (!d) {
      d = this.doDownload(file);
      d.catch(() => {});
      this.downloads.set(file.url, d);
    }
    return d;
  }

  private async doDownload(file: IndexFile): Promise<DownloadResult> {
    if (!file.sha256) {
      throw new IntegrityError(`${file.filename}: the index gives no sha256 for it (${redactUrl(file.url)})`, {
        hint: 'Every wheel is verified against the index hash; use an index that publishes #sha256= fragments or JSON hashes.',
      });
    }
    try {
      return await this.opts.requests.run(() => this.opts.http.download({ url: file.url, sha256: file.sha256, what: file.filename }, { store: this.opts.store, onProgress: this.opts.onProgress }));
    } catch (err) {
      if (err instanceof IntegrityError) {
        throw new IntegrityError(`wheel ${file.filename} does not match the index: ${err.message}`, { hint: err.hint, cause: err });
      }
      throw err;
    }
  }

  /** Core metadata bytes of a wheel: the PEP 658 file when the index offers one, else METADATA from the wheel. */
  metadata(file: IndexFile, distribution: string): Promise<Buffer> {
    let m = this.metadataCache.get(file.url);
    if (!m) {
      m = this.fetchMetadata(file, distribution);
      m.catch(() => {});
      this.metadataCache.set(file.url, m);
    }
    return m;
  }

  private async fetchMetadata(file: IndexFile, distribution: string): Promise<Buffer> {
    if (file.metadata) {
      const url = `${file.url}.metadata`;
      const res = await this.opts.requests.run(() => this.opts.http.request(url, { what: `metadata of ${file.filename}`, accept: (s) => s === 404 || s === 403 }));
      if (res.ok) {
        const body = res.bytes;
        const want = file.metadata.sha256;
        if (want && sha256OfString(body) !== want) {
          throw new IntegrityError(`metadata of ${file.filename} (${redactUrl(url)}): sha256 ${sha256OfString(body)}, expected ${want}`);
        }
        return body;
      }
      // The index promised a metadata file it does not have: read the wheel instead.
    }
    try {
      const zip = await openRemoteZip(this.opts.http, this.opts.requests, file.url, file.filename);
      this.sizes.set(file.url, zip.size);
      return await wheelMetadata(zip, distribution);
    } catch (err) {
      if (err instanceof KsBundleError) throw err;
      if (!(err instanceof NoRangeSupport)) throw new KsBundleError('FAILED', `${file.filename}: cannot read its METADATA: ${(err as Error).message}`, { cause: err });
    }
    // The server answers no ranges: the wheel itself is the only way to its METADATA.
    const blob = await this.download(file);
    this.sizes.set(file.url, blob.size);
    try {
      return await readWheelMetadata(blob.path, distribution);
    } catch (err) {
      throw new KsBundleError('FAILED', `${file.filename}: cannot read its METADATA: ${(err as Error).message}`, { cause: err });
    }
  }

  /** A wheel's size without downloading it: the index's (PEP 700), what a range answer said, else the HTTP client's probe. */
  async size(file: IndexFile): Promise<number | undefined> {
    const known = file.size ?? this.sizes.get(file.url);
    if (known !== undefined) return known;
    const { size } = await this.opts.requests.run(() => this.opts.http.probe(file.url, { what: file.filename }));
    if (size !== undefined) this.sizes.set(file.url, size);
    return size;
  }
}
