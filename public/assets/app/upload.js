// Uploads through tus (tus-js-client, served from its package): per-file progress, pause and
// resume (also after a reload, when the same file is picked again), cancel, and a question before
// an existing name is replaced. Files of a folder keep their relative paths.
import { html, size, joinPath, freeName, useState, useRef } from './lib.js';
import { pageHeaders } from './api.js';

const PARALLEL = 2;
let nextId = 1;

function tusError(err) {
  const res = err && err.originalResponse;
  if (res) {
    try {
      const body = JSON.parse(res.getBody());
      if (body && body.error && body.error.message) return body.error.message;
    } catch {}
    return `upload failed (${res.getStatus()})`;
  }
  return 'the connection was lost: resume when you are back online';
}

/** Files from a drop: folders are walked (webkitGetAsEntry), each file with its relative path. */
export async function droppedFiles(dt) {
  const entries = Array.from(dt.items || [])
    .filter((i) => i.kind === 'file')
    .map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
  if (!entries.length || entries.some((e) => !e)) return Array.from(dt.files || []).map((file) => ({ file, rel: file.name }));
  const out = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push({ file, rel: prefix + entry.name });
      return;
    }
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
      if (!batch.length) break;
      for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

/** The upload queue of the page (one per tab): items, their state, and what to do with them. */
export function useUploads(onFinished) {
  const [items, setItems] = useState([]);
  const ref = useRef({ items: [], uploads: new Map() });
  const publish = () => setItems([...ref.current.items]);
  const patch = (id, change) => {
    ref.current.items = ref.current.items.map((i) => (i.id === id ? { ...i, ...change } : i));
    publish();
  };

  const pump = () => {
    const active = ref.current.items.filter((i) => i.status === 'uploading').length;
    const next = ref.current.items.filter((i) => i.status === 'waiting').slice(0, Math.max(0, PARALLEL - active));
    for (const item of next) begin(item);
  };

  function begin(item) {
    const { file, root, path, baseVersion } = item;
    const metadata = { root, path, filename: file.name, mtimeMs: String(file.lastModified || Date.now()) };
    if (baseVersion) metadata.baseVersion = String(baseVersion);
    const upload = new window.tus.Upload(file, {
      endpoint: '/api/v1/uploads/',
      headers: pageHeaders(),
      metadata,
      // The default fingerprint (name, size, date) would resume an upload meant for another folder.
      fingerprint: async () => ['syncgate', root, path, file.size, file.lastModified].join('|'),
      removeFingerprintOnSuccess: true,
      retryDelays: [0, 1000, 3000],
      onShouldRetry: (err) => {
        const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
        return status === 0 || status === 423 || status === 429 || status >= 500;
      },
      onProgress: (sent, total) => patch(item.id, { sent, total }),
      onSuccess: () => {
        patch(item.id, { status: 'done', sent: file.size });
        onFinished(item);
        pump();
      },
      onError: (err) => {
        patch(item.id, { status: 'error', error: tusError(err) });
        pump();
      },
    });
    ref.current.uploads.set(item.id, upload);
    patch(item.id, { status: 'uploading', error: '' });
    upload
      .findPreviousUploads()
      .then((previous) => {
        if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      })
      .catch(() => upload.start());
  }

  /**
   * Queues files for root/dir. `listing` holds the names on view: an existing name is asked
   * about (`ask(name, remaining)` -> {choice, all}); a folder upload merges into an existing folder.
   */
  async function add(files, root, dir, listing, ask) {
    const byName = new Map(listing.map((e) => [e.name, e]));
    const taken = new Set(byName.keys());
    const clashes = files.filter((f) => !f.rel.includes('/') && byName.has(f.rel)).length;
    let remembered = null;
    let asked = 0;
    const queued = [];
    for (const f of files) {
      let rel = f.rel;
      let baseVersion;
      const existing = !rel.includes('/') && byName.get(rel);
      if (existing) {
        asked += 1;
        let choice = remembered;
        if (!choice) {
          const a = await ask(rel, clashes - asked);
          choice = a.choice;
          if (a.all) remembered = choice;
        }
        if (choice === 'skip') continue;
        if (choice === 'both' || existing.kind === 'dir') {
          rel = freeName(rel, taken);
          taken.add(rel);
        } else {
          baseVersion = existing.version; // changed meanwhile -> a conflict copy, never a silent loss
        }
      }
      queued.push({ id: nextId++, file: f.file, name: rel, root, dir, path: joinPath(dir, rel), baseVersion, status: 'waiting', sent: 0, total: f.file.size, error: '' });
    }
    ref.current.items = [...ref.current.items, ...queued];
    publish();
    pump();
  }

  const pause = (id) => {
    ref.current.uploads.get(id)?.abort(false);
    patch(id, { status: 'paused' });
    pump();
  };
  const resume = (id) => {
    const upload = ref.current.uploads.get(id);
    patch(id, { status: 'uploading', error: '' });
    if (upload) upload.start();
    else begin(ref.current.items.find((i) => i.id === id));
  };
  const cancel = (id) => {
    const upload = ref.current.uploads.get(id);
    if (upload) upload.abort(true).catch(() => {});
    patch(id, { status: 'cancelled' });
    pump();
  };
  const clear = () => {
    ref.current.items = ref.current.items.filter((i) => !['done', 'cancelled'].includes(i.status));
    publish();
  };
  return { items, add, pause, resume, cancel, clear };
}

const LABEL = { waiting: 'waiting', uploading: 'uploading', paused: 'paused', done: 'uploaded', error: 'failed', cancelled: 'cancelled' };

export function UploadPanel({ uploads }) {
  const { items } = uploads;
  if (!items.length) return null;
  return html`<section class="card uploads" aria-label="Uploads">
    <div class="bar">
      <h2>Uploads</h2>
      <button type="button" class="secondary" onClick=${uploads.clear}>Clear finished</button>
    </div>
    <ul>
      ${items.map((i) => {
        const pct = i.total ? Math.round((i.sent / i.total) * 100) : i.status === 'done' ? 100 : 0;
        return html`<li key=${i.id} class=${`upload ${i.status}`} data-name=${i.name}>
          <span class="upload-name">${i.name}</span>
          <progress max="100" value=${pct} aria-label=${`${i.name} progress`}></progress>
          <span class="upload-status" role="status">${LABEL[i.status]}${i.status === 'uploading' || i.status === 'paused' ? ` ${pct}%` : ''}${i.status === 'done' ? ` (${size(i.total)})` : ''}${i.error ? `: ${i.error}` : ''}</span>
          <span class="upload-actions">
            ${i.status === 'uploading' ? html`<button type="button" class="secondary" aria-label=${`Pause ${i.name}`} onClick=${() => uploads.pause(i.id)}>Pause</button>` : null}
            ${i.status === 'paused' || i.status === 'error' ? html`<button type="button" class="secondary" aria-label=${`Resume ${i.name}`} onClick=${() => uploads.resume(i.id)}>Resume</button>` : null}
            ${['waiting', 'uploading', 'paused', 'error'].includes(i.status) ? html`<button type="button" class="secondary" aria-label=${`Cancel ${i.name}`} onClick=${() => uploads.cancel(i.id)}>Cancel</button>` : null}
          </span>
        </li>`;
      })}
    </ul>
  </section>`;
}
