import { Readable } from 'node:stream';

export interface Head {
  chunks: Uint8Array[];
  /** null: the source ended within the limit. Otherwise the chunks read so far, then the remainder. */
  rest: AsyncIterable<Uint8Array> | null;
  /** Lets the source go without reading it. */
  release: () => Promise<void>;
}

const NOTHING_TO_RELEASE = async (): Promise<void> => {};

/** The body size an HTTP request announced (Content-Length, without chunked transfer), if any. */
export function declaredBodySize(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): number | undefined {
  const length = headers['content-length'];
  return headers['transfer-encoding'] === undefined && length !== undefined && /^\d{1,15}$/.test(length) ? Number(length) : undefined;
}

/**
 * Reads `source` until it ends or passes `limit` bytes. Small sources end here (rest: null); a
 * larger one comes back as `rest`, the chunks read so far followed by the remainder; `release`
 * lets the source go without reading it.
 * `declaredSize`: the size the sender announced (an HTTP Content-Length), after which a stream has
 * nothing more to give. Its head is whole once that many bytes came, without waiting for its end:
 * Node's HTTP parser reports a request's end one turn of the event loop after its last bytes.
 */
export function readHead(source: Readable | AsyncIterable<Uint8Array>, limit: number, declaredSize?: number): Promise<Head> {
  return source instanceof Readable ? readStreamHead(source, limit, declaredSize) : readIterableHead(source, limit);
}

/**
 * A stream (an HTTP request, an FTP data socket) read through its events: the async iterator of a
 * Readable cost about 20 µs more per small upload (promises and end-of-stream bookkeeping per chunk).
 * The remainder of a large one is then read through its iterator, as any source is.
 */
function readStreamHead(stream: Readable, limit: number, declaredSize: number | undefined): Promise<Head> {
  if (stream.readableEnded) return Promise.resolve({ chunks: [], rest: null, release: NOTHING_TO_RELEASE });
  if (stream.destroyed) return readIterableHead(stream, limit); // its iterator reports why
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const done = (settle: () => void) => {
      stream.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      settle();
    };
    const onData = (chunk: Uint8Array) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size === declaredSize && size <= limit) {
        // Its end (or a late error: the client gone) still comes, and must find a listener.
        stream.on('error', () => {});
        return done(() => resolve({ chunks, rest: null, release: NOTHING_TO_RELEASE }));
      }
      if (size <= limit) return;
      stream.pause();
      // Until the caller starts reading the rest, an error must find a listener (a socket's would
      // otherwise be uncaught); the stream keeps it and its iterator throws it then.
      stream.on('error', () => {});
      // An iterator never started does not destroy its stream on return(): release destroys it.
      done(() => resolve({ ...withRest(chunks, stream[Symbol.asyncIterator]()), release: async () => void stream.destroy() }));
    };
    const onEnd = () => done(() => resolve({ chunks, rest: null, release: NOTHING_TO_RELEASE }));
    const onError = (err: Error) => done(() => reject(err));
    // Closed without an end: the client went away mid-upload.
    const onClose = () => done(() => reject(Object.assign(new Error('the upload ended early'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })));
    stream.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

async function readIterableHead(source: AsyncIterable<Uint8Array>, limit: number): Promise<Head> {
  const it = source[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= limit) {
      const r = await it.next();
      if (r.done) return { chunks, rest: null, release: NOTHING_TO_RELEASE };
      chunks.push(r.value);
      size += r.value.length;
    }
  } catch (err) {
    await it.return?.();
    throw err;
  }
  return withRest(chunks, it);
}

function withRest(chunks: Uint8Array[], it: AsyncIterator<Uint8Array>): Head {
  // For a caller that gives up before reading `rest`: its finally would never run.
  return { chunks, rest: iteratorRest(chunks, it), release: async () => void (await it.return?.()) };
}

async function* iteratorRest(chunks: Uint8Array[], it: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  try {
    yield* chunks;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    // Stopped early (an error downstream): release the source.
    await it.return?.();
  }
}
