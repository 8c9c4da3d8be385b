/**
 * The client's side of the sync protocol (shapes in src/sync-wire): one method per route, errors
 * as ApiError with the protocol's code, network failures as 'UNREACHABLE'.
 */
import { Readable } from 'node:stream';
import { isBodyError, request, type Answer, type BodyWriter } from './stream-request.js';
import {
  HEADER, PREFIX, type ChangesPage, type ConflictResolution, type ConflictsResponse, type CursorResponse, type DeleteResponse, type ErrorBody,
  type LoginRequest, type LoginResponse, type RootsResponse, type SyncErrorCode, type UploadStatus, type WireEntry, type WriteResponse,
} from '../sync-wire/index.js';

export type ClientErrorCode = SyncErrorCode | 'UNREACHABLE' | 'BAD_RESPONSE';

export class ApiError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly status = 0,
  ) {
    super(message);
  }
}

export interface Download {
  entry: Pick<WireEntry, 'version' | 'sha256' | 'size' | 'mtimeMs' | 'seq'>;
  body: AsyncIterable<Uint8Array>;
  /** Bytes of the whole content (206: the part after the offset asked). */
  length: number;
}

export class Api {
  constructor(
    readonly url: string,
    private readonly token: string | null,
  ) {}

  private async call(method: string, route: string, init: { body?: Uint8Array | Readable | BodyWriter | null; headers?: Record<string, string>; json?: unknown } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: Uint8Array | Readable | BodyWriter | string | undefined = init.body ?? undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    let res: Answer;
    try {
      const url = `${this.url.replace(/\/+$/, '')}${PREFIX}${route}`;
      res = await request(url, method, headers, body);
    } catch (err) {
      if (isBodyError(err)) throw err; // this file's problem: the next file may go
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const code = cause?.code ?? (err as { code?: string }).code;
      // TLS spoken to a plain HTTP port (npm start's default) fails as EPROTO: say what it likely is.
      const tls = code === 'EPROTO' && this.url.startsWith('https:') ? `; does it speak plain HTTP? try ${this.url.replace(/^https:/, 'http:')}` : '';
      throw new ApiError('UNREACHABLE', `the gateway at ${this.url} is unreachable (${code ?? cause?.message ?? (err as Error).message})${tls}`);
    }
    if (res.status >= 400) {
      let parsed: ErrorBody | null = null;
      try {
        parsed = JSON.parse((await res.bytes()).toString('utf8')) as ErrorBody;
      } catch {
        // not one of ours: a wrong URL (another server, a proxy page)
      }
      if (!parsed?.error?.code) throw new ApiError('BAD_RESPONSE', `${this.url} answered ${res.status} without a sync error: is it a syncgate gateway?`, res.status);
      throw new ApiError(parsed.error.code, parsed.error.message, res.status);
    }
    return res;
  }

  private async json<T>(method: string, route: string, init?: Parameters<Api['call']>[2]): Promise<T> {
    const res = await this.call(method, route, init);
    try {
      return JSON.parse((await res.bytes()).toString('utf8')) as T;
    } catch {
      throw new ApiError('BAD_RESPONSE', `${this.url} sent an unreadable answer: is it a syncgate gateway?`, res.status);
    }
  }

  private static q(params: Record<string, string | number | undefined>): string {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) u.set(k, String(v));
    return u.toString();
  }

  login(req: LoginRequest): Promise<LoginResponse> {
    return this.json('POST', '/login', { json: req });
  }
  roots(): Promise<RootsResponse> {
    return this.json('GET', '/roots');
  }
  changes(root: string, after: number, limit?: number): Promise<ChangesPage> {
    return this.json('GET', `/roots/${encodeURIComponent(root)}/changes?${Api.q({ after, limit })}`);
  }
  setCursor(root: string, cursor: number): Promise<CursorResponse> {
    return this.json('PUT', `/roots/${encodeURIComponent(root)}/cursor`, { json: { cursor } });
  }

  download(root: string, path: string, offset = 0): Promise<Download> {
    return this.open('GET', `/roots/${encodeURIComponent(root)}/file?${Api.q({ path })}`, offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {});
  }

  /** The delta from the content whose signature is sent to the head. */
  deltaDownload(root: string, path: string, signature: Uint8Array): Promise<Download> {
    return this.open('POST', `/roots/${encodeURIComponent(root)}/delta?${Api.q({ path })}`, { body: signature, headers: { 'content-type': 'application/vnd.librsync.signature' } });
  }

  /**
   * The delta from version `base` (the copy this device still holds, unchanged) to the head: the
   * gateway uses its own cached signature of that version, or the very delta it was uploaded as, so
   * this device neither reads its copy for a signature nor sends one. NOT_FOUND when that content
   * is no longer stored (then send a signature: deltaDownload).
   */
  deltaFromVersion(root: string, path: string, base: number): Promise<Download> {
    return this.open('POST', `/roots/${encodeURIComponent(root)}/delta?${Api.q({ path, base })}`, { body: new Uint8Array(0) });
  }

  /** A request whose answer is a content or a delta, read as node's stream. */
  private async open(method: string, route: string, init: Parameters<Api['call']>[2]): Promise<Download> {
    const res = await this.call(method, route, init);
    try {
      return { entry: entryOf(res), body: res.body, length: Number(res.header('content-length') ?? 0) };
    } catch (err) {
      res.body.destroy();
      throw err;
    }
  }

  async signature(root: string, path: string): Promise<{ entry: Download['entry']; body: Uint8Array }> {
    const res = await this.call('GET', `/roots/${encodeURIComponent(root)}/signature?${Api.q({ path })}`);
    return { entry: entryOf(res), body: new Uint8Array(await res.bytes()) };
  }

  /** `body`: a stream, a writer of the content, or the whole content of a small file (sent as it is). */
  upload(root: string, p: { path: string; base?: number; sha256: string; mtimeMs: number; size: number }, body: Readable | BodyWriter | Uint8Array): Promise<WriteResponse> {
    return this.json('PUT', `/roots/${encodeURIComponent(root)}/file?${Api.q({ path: p.path, base: p.base, sha256: p.sha256, mtime: Math.trunc(p.mtimeMs) })}`, {
      // An empty stream with Content-Length 0 went out as a chunked body too, which the server's
      // parser refuses by closing the connection: an empty file is sent as an empty buffer.
      body: p.size === 0 ? (body instanceof Readable && body.destroy(), new Uint8Array(0)) : body,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(p.size) },
    });
  }

  /** `sha256` 'trailer': the body ends with the result's SHA-256 (32 bytes after the delta). */
  uploadDelta(root: string, p: { path: string; base: number; sha256: string | 'trailer'; mtimeMs: number }, body: Readable | BodyWriter): Promise<WriteResponse> {
    const hash = p.sha256 === 'trailer' ? { trailer: 'sha256' } : { sha256: p.sha256 };
    return this.json('POST', `/roots/${encodeURIComponent(root)}/patch?${Api.q({ path: p.path, base: p.base, ...hash, mtime: Math.trunc(p.mtimeMs) })}`, {
      body,
      headers: { 'content-type': 'application/vnd.librsync.delta' },
    });
  }

  createUpload(root: string, p: { path: string; base?: number; sha256?: string; mtimeMs: number; length: number }): Promise<UploadStatus> {
    return this.json('POST', `/roots/${encodeURIComponent(root)}/uploads?${Api.q({ path: p.path, base: p.base, sha256: p.sha256, mtime: Math.trunc(p.mtimeMs), length: p.length })}`);
  }
  uploadStatus(root: string, id: string): Promise<UploadStatus> {
    return this.json('GET', `/roots/${encodeURIComponent(root)}/uploads/${encodeURIComponent(id)}`);
  }
  appendUpload(root: string, id: string, offset: number, body: Readable | BodyWriter, length: number): Promise<UploadStatus & { interrupted: boolean }> {
    return this.json('PATCH', `/roots/${encodeURIComponent(root)}/uploads/${encodeURIComponent(id)}?${Api.q({ offset })}`, {
      body,
      headers: { 'content-type': 'application/offset+octet-stream', 'content-length': String(length) },
    });
  }
  /** `sha256`: the content's, when the upload was created without it (hashed while sent). */
  finishUpload(root: string, id: string, sha256?: string): Promise<WriteResponse> {
    return this.json('POST', `/roots/${encodeURIComponent(root)}/uploads/${encodeURIComponent(id)}/finish${sha256 ? `?${Api.q({ sha256 })}` : ''}`);
  }

  /** A file's delete names the version deleted (`base`), a folder's the feed cursor it was in step with. */
  remove(root: string, path: string, base?: number, cursor?: number): Promise<DeleteResponse> {
    return this.json('DELETE', `/roots/${encodeURIComponent(root)}/file?${Api.q({ path, base, cursor })}`);
  }
  mkdir(root: string, path: string): Promise<WriteResponse> {
    return this.json('POST', `/roots/${encodeURIComponent(root)}/mkdir?${Api.q({ path })}`);
  }
  move(root: string, from: string, to: string, base?: number): Promise<WriteResponse> {
    return this.json('POST', `/roots/${encodeURIComponent(root)}/move`, { json: { from, to, base } });
  }
  conflicts(root: string): Promise<ConflictsResponse> {
    return this.json('GET', `/roots/${encodeURIComponent(root)}/conflicts`);
  }
  async resolve(root: string, id: number, resolution: ConflictResolution): Promise<void> {
    await this.call('POST', `/roots/${encodeURIComponent(root)}/conflicts/${id}`, { json: { resolution } });
  }
}

function entryOf(res: Answer): Download['entry'] {
  const n = (h: string) => Number(res.header(h) ?? NaN);
  const sha256 = res.header(HEADER.sha256);
  if (!sha256 || !Number.isFinite(n(HEADER.version))) throw new ApiError('BAD_RESPONSE', 'the gateway did not say which version it sent');
  return { version: n(HEADER.version), sha256, size: n(HEADER.size), mtimeMs: n(HEADER.mtime), seq: n(HEADER.seq) };
}
