// Dialogs for actions on entries: move/copy (folder picker), history, share links, conflicts.
import { html, size, date, joinPath, parentOf, compareNames, useState, useEffect } from './lib.js';
import { api, rootUrl } from './api.js';
import { Modal, FormDialog } from './dialogs.js';

function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null });
  const reload = () => load().then((data) => setState({ data, error: null }), (error) => setState({ data: null, error }));
  useEffect(() => {
    reload();
  }, deps);
  return [state, reload];
}

/** Pick a folder (in this or another writable root) and move or copy the items there. */
export function MoveDialog({ mode, root, dir, items, onClose, onDone }) {
  const [target, setTarget] = useState({ root, dir });
  const [roots] = useLoad(() => api('GET', '/api/v1/roots').then((r) => r.roots.filter((x) => x.access !== 'read')), []);
  const [folders] = useLoad(() => api('GET', rootUrl(target.root, 'list', target.dir)).then((r) => r.entries.filter((e) => e.kind === 'dir').sort((a, b) => compareNames(a.name, b.name))), [target.root, target.dir]);
  const verb = mode === 'move' ? 'Move' : 'Copy';
  const action = async () => {
    for (const e of items) {
      const to = joinPath(target.dir, e.name);
      if (target.root === root && (to === e.path || target.dir === e.path || target.dir.startsWith(`${e.path}/`))) throw new Error(`“${e.name}” cannot go into itself`);
      await api('POST', rootUrl(root, mode), { from: e.path, to, ...(target.root !== root ? { toRoot: target.root } : {}) });
    }
    onDone(`${items.length} item(s) ${mode === 'move' ? 'moved' : 'copied'} to ${target.root}/${target.dir}`);
  };
  return html`<${FormDialog} title="${verb} ${items.length === 1 ? `“${items[0].name}”` : `${items.length} items`}" submit="${verb} here" onClose=${onClose} action=${action}>
    <label>Root <select value=${target.root} onChange=${(e) => setTarget({ root: e.currentTarget.value, dir: '' })}>
      ${(roots.data || [{ name: root }]).map((r) => html`<option value=${r.name}>${r.name}</option>`)}
    </select></label>
    <p class="picker-path">Target: <strong>${target.root}/${target.dir}</strong></p>
    <ul class="picker" aria-label="Folders">
      ${target.dir ? html`<li><button type="button" class="secondary" onClick=${() => setTarget({ ...target, dir: parentOf(target.dir) })}>.. (up)</button></li>` : null}
      ${(folders.data || []).map((f) => html`<li><button type="button" class="secondary" onClick=${() => setTarget({ ...target, dir: f.path })}>${f.name}/</button></li>`)}
    </ul>
    ${folders.error ? html`<p class="error">${folders.error.message}</p>` : null}
  <//>`;
}

/** Every version of a file: who, when, through which door or device, size; download or restore. */
export function HistoryDialog({ root, entry, writable, onClose, onDone }) {
  const [h, reload] = useLoad(() => api('GET', rootUrl(root, 'history', entry.path)), [entry.path]);
  const [error, setError] = useState('');
  const restore = async (v) => {
    try {
      await api('POST', rootUrl(root, 'restore'), { path: entry.path, version: v.version });
      onDone(`Version ${v.version} of “${entry.name}” restored.`);
      reload();
    } catch (e) {
      setError(e.message);
    }
  };
  const versions = h.data ? h.data.versions : [];
  return html`<${Modal} title="History of “${entry.name}”" onClose=${onClose} wide>
    ${h.error ? html`<p class="error" role="alert">${h.error.message}</p>` : null}
    <p class="error" role="alert">${error}</p>
    <div class="scroll"><table class="versions">
      <thead><tr><th>Version</th><th>When</th><th>Who</th><th>Through</th><th class="num">Size</th><th>Actions</th></tr></thead>
      <tbody>${versions.map((v, i) => html`<tr data-version=${v.version}>
        <td>${v.version}${i === 0 ? ' (current)' : ''}${v.deleted ? ' deleted' : ''}</td>
        <td>${date(v.createdAt)}</td>
        <td>${v.user || '—'}</td>
        <td>${v.device ? `${v.protocol} · ${v.device}` : v.protocol}</td>
        <td class="num">${v.deleted ? '' : size(v.size)}</td>
        <td class="row-actions">
          ${v.available && !v.deleted && v.kind === 'file' ? html`<a class="button secondary" href=${`${rootUrl(root, 'files', entry.path)}?version=${v.version}`} download=${entry.name} aria-label=${`Download version ${v.version}`}>Download</a>` : null}
          ${writable && i > 0 && v.available && !v.deleted ? html`<button type="button" class="secondary" aria-label=${`Restore version ${v.version}`} onClick=${() => restore(v)}>Restore</button>` : null}
        </td>
      </tr>`)}</tbody>
    </table></div>
  <//>`;
}

export function shareState(l) {
  if (l.state !== 'active') return l.state;
  return l.maxDownloads ? `active · ${l.downloads} of ${l.maxDownloads} used` : `active · ${l.downloads} used`;
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** New link with expiry, password, download limit, upload-only; then its URL to copy; the entry's links. */
export function ShareDialog({ root, entry, onClose }) {
  const [created, setCreated] = useState(null);
  const [error, setError] = useState('');
  const [copied, setCopied] = useState('');
  const [links, reload] = useLoad(() => api('GET', `/api/v1/shares?root=${encodeURIComponent(root)}`).then((r) => r.shares.filter((l) => l.path === entry.path)), [entry.path]);
  const create = async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    const body = { root, path: entry.path };
    if (f.get('expires')) body.expiresAt = new Date(`${f.get('expires')}T23:59:59`).toISOString();
    if (f.get('password')) body.password = String(f.get('password'));
    if (f.get('limit')) body.maxDownloads = Number(f.get('limit'));
    if (f.get('uploadOnly')) body.uploadOnly = true;
    try {
      setError('');
      setCreated(await api('POST', '/api/v1/shares', body));
      reload();
    } catch (e) {
      setError(e.message);
    }
  };
  const revoke = async (l) => {
    await api('DELETE', `/api/v1/shares/${l.id}`).catch((e) => setError(e.message));
    reload();
  };
  return html`<${Modal} title="Share “${entry.name}”" onClose=${onClose}>
    <form onSubmit=${create} class="share-form">
      <label>Expires on (optional) <input type="date" name="expires" min=${new Date(Date.now() + 86400_000).toISOString().slice(0, 10)} /></label>
      <label>Password (optional) <input type="password" name="password" autocomplete="new-password" /></label>
      <label>Download limit (optional) <input type="number" name="limit" min="1" step="1" inputmode="numeric" /></label>
      ${entry.kind === 'dir' ? html`<label class="check"><input type="checkbox" name="uploadOnly" /> Upload only (a drop box: visitors cannot see the files)</label>` : null}
      <p class="error" role="alert">${error}</p>
      <div class="actions"><button type="submit">Create link</button></div>
    </form>
    ${created ? html`<div class="created">
      <label>Link (shown once) <input id="share-url" readonly value=${created.url} onFocus=${(e) => e.currentTarget.select()} /></label>
      <button type="button" onClick=${async () => setCopied((await copyText(created.url)) ? 'Copied.' : 'Select the link and copy it.')}>Copy link</button>
      <span role="status">${copied}</span>
    </div>` : null}
    <h3>Links to this ${entry.kind === 'dir' ? 'folder' : 'file'}</h3>
    ${links.data && !links.data.length ? html`<p class="muted">None yet.</p>` : null}
    <ul class="links">${(links.data || []).map((l) => html`<li data-share=${l.id}>
      <span>${l.uploadOnly ? 'Upload only' : 'Download'}${l.hasPassword ? ' · password' : ''}${l.expiresAt ? ` · until ${date(l.expiresAt)}` : ''} · ${shareState(l)}</span>
      ${l.state === 'active' ? html`<button type="button" class="danger" onClick=${() => revoke(l)}>Revoke</button>` : null}
    </li>`)}</ul>
  <//>`;
}

const TEXT = /\.(txt|md|csv|json|xml|html?|css|js|ts|ya?ml|ini|conf|log|py|sh|c|h|go|rs|java)$/i;

async function textOf(root, p) {
  const res = await fetch(rootUrl(root, 'files', p), { credentials: 'same-origin', headers: { 'x-requested-with': 'fetch' } });
  return res.ok ? res.text() : '';
}

/**
 * Which lines of each side are not in their longest common subsequence: a line diff, enough to
 * see what differs (files here are under 64 KB, so the quadratic table stays small).
 */
function changedLines(a, b) {
  if (a.length * b.length > 4_000_000) return [a.map((l, i) => l !== b[i]), b.map((l, i) => l !== a[i])];
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) for (let j = m - 1; j >= 0; j -= 1) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ca = new Array(n).fill(true);
  const cb = new Array(m).fill(true);
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (a[i] === b[j]) {
      ca[i] = false;
      cb[j] = false;
      i += 1;
      j += 1;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) i += 1;
    else j += 1;
  }
  return [ca, cb];
}

function DiffSide({ lines, changed, label }) {
  return html`<div class="diff-side"><h3>${label}</h3><pre>${lines.map((l, i) => html`<div class=${changed[i] ? 'changed' : ''}>${changed[i] ? '± ' : '  '}${l || ' '}</div>`)}</pre></div>`;
}

/** Current file and conflict copy side by side; keep current, keep the copy, or keep both. */
export function ConflictDialog({ root, conflict, onClose, onDone }) {
  const [sides] = useLoad(async () => {
    const [cur, copy] = await Promise.all([api('GET', rootUrl(root, 'stat', conflict.path)).catch(() => null), api('GET', rootUrl(root, 'stat', conflict.copyPath)).catch(() => null)]);
    let text = null;
    if (TEXT.test(conflict.path) && (cur?.size ?? 0) < 65536 && (copy?.size ?? 0) < 65536) text = await Promise.all([textOf(root, conflict.path), textOf(root, conflict.copyPath)]);
    return { cur, copy, text, changed: text ? changedLines(text[0].split('\n'), text[1].split('\n')) : null };
  }, [conflict.id]);
  const resolve = async (resolution, what) => {
    await api('POST', rootUrl(root, `conflicts/${conflict.id}/resolve`), { resolution });
    onDone(`Conflict on “${conflict.path}” resolved: ${what}.`);
    onClose();
  };
  const s = sides.data;
  const from = conflict.device ? `from ${conflict.device}` : `by ${conflict.user || 'another writer'}`;
  return html`<${Modal} title="Conflict on “${conflict.path}”" onClose=${onClose} wide>
    <p>Two edits were made from the same version (${conflict.baseVersion}). The other one (${from}, ${date(conflict.createdAt)}) was kept as “${conflict.copyPath}”.</p>
    ${s ? html`<div class="sides">
      <div><h3>Current file</h3><p>${s.cur ? `${size(s.cur.size)} · ${date(s.cur.mtime)}` : 'gone'}</p></div>
      <div><h3>Conflict copy</h3><p>${s.copy ? `${size(s.copy.size)} · ${date(s.copy.mtime)}` : 'gone'}</p></div>
    </div>` : null}
    ${s && s.text ? html`<div class="sides diff">
      <${DiffSide} label="Current" lines=${s.text[0].split('\n')} changed=${s.changed[0]} />
      <${DiffSide} label="Conflict copy" lines=${s.text[1].split('\n')} changed=${s.changed[1]} />
    </div>` : null}
    <div class="actions">
      <button type="button" class="secondary" onClick=${() => resolve('keep-server', 'the current file kept')}>Keep current</button>
      <button type="button" class="secondary" onClick=${() => resolve('keep-incoming', 'the conflict copy kept')}>Keep conflict copy</button>
      <button type="button" onClick=${() => resolve('keep-both', 'both kept')}>Keep both</button>
    </div>
  <//>`;
}
