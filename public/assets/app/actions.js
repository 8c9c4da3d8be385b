// Dialogs for actions on entries: move/copy (folder picker), history, share links (conflicts: conflicts.js).
import { html, size, date, joinPath, parentOf, compareNames, useState, useEffect } from './lib.js';
import { api, rootUrl } from './api.js';
import { Modal, FormDialog } from './dialogs.js';

export function useLoad(load, deps) {
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

/**
 * Every version of a file: who, when, through which door or device, size; download or restore.
 * History follows the file across moves: a version made at another path says so, and is fetched
 * and restored with that path (from).
 */
export function HistoryDialog({ root, entry, writable, onClose, onDone }) {
  const [h, reload] = useLoad(() => api('GET', rootUrl(root, 'history', entry.path)), [entry.path]);
  const [error, setError] = useState('');
  const restore = async (v) => {
    try {
      await api('POST', rootUrl(root, 'restore'), { path: entry.path, version: v.version, ...(v.path && v.path !== entry.path ? { from: v.path } : {}) });
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
        <td>${v.version}${i === 0 ? ' (current)' : ''}${v.deleted ? ' deleted' : ''}${v.op === 'move-in' && v.fromPath ? html`<br /><small>moved from ${v.fromPath}</small>` : null}${v.path && v.path !== entry.path ? html`<br /><small class="old-path">as ${v.path}</small>` : null}</td>
        <td>${date(v.createdAt)}</td>
        <td>${v.user || '—'}</td>
        <td>${v.device ? `${v.protocol} · ${v.device}` : v.protocol}</td>
        <td class="num">${v.deleted ? '' : size(v.size)}</td>
        <td class="row-actions">
          ${v.available && !v.deleted && v.kind === 'file' ? html`<a class="button secondary" href=${`${rootUrl(root, 'files', entry.path)}?version=${v.version}${v.path && v.path !== entry.path ? `&from=${encodeURIComponent(v.path)}` : ''}`} download=${entry.name} aria-label=${`Download version ${v.version}`}>Download</a>` : null}
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
