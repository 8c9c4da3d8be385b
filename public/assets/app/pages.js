// The other views: deleted files of a root, my share links, my devices and tokens, administration.
import { html, size, date, useState, useEffect } from './lib.js';
import { api, rootUrl } from './api.js';
import { FormDialog } from './dialogs.js';
import { shareState } from './actions.js';

function useData(load, deps = []) {
  const [s, set] = useState({ data: null, error: null });
  const reload = () => load().then((data) => set({ data, error: null }), (error) => set({ data: null, error }));
  useEffect(() => {
    reload();
  }, deps);
  return [s, reload];
}

const Failed = ({ error }) => (error ? html`<p class="error" role="alert">${error.message}</p>` : null);

function Page({ title, children }) {
  return html`<section class="card page"><h1 tabindex="-1" ref=${(h) => h && document.activeElement === document.body && h.focus()}>${title}</h1>${children}</section>`;
}

/** Deleted files of a root, newest first, each with Restore. */
export function TrashView({ root, notify }) {
  const [s, reload] = useData(() => api('GET', rootUrl(root, 'deleted')), [root]);
  const [error, setError] = useState('');
  const restore = async (e) => {
    try {
      await api('POST', rootUrl(root, 'undelete'), { path: e.path });
      notify(`“${e.path}” restored.`);
      reload();
    } catch (err) {
      setError(err.message);
    }
  };
  const entries = s.data ? s.data.entries : [];
  return html`<${Page} title="Deleted files in ${root}">
    <${Failed} error=${s.error} /><p class="error" role="alert">${error}</p>
    ${s.data && !entries.length ? html`<p class="state empty">Nothing was deleted here.</p>` : null}
    <ul class="rows">${entries.map((e) => html`<li data-path=${e.path}>
      <span class="grow">${e.path}${e.kind === 'dir' ? '/' : ''} <span class="muted">${e.kind === 'file' ? size(e.size) : ''} · ${date(e.mtime)}</span></span>
      ${e.kind === 'file' ? html`<button type="button" class="secondary" aria-label=${`Restore ${e.path}`} onClick=${() => restore(e)}>Restore</button>` : null}
    </li>`)}</ul>
  <//>`;
}

/** Every share link I made: state, use, access log, revoke. */
export function SharesView() {
  const [s, reload] = useData(() => api('GET', '/api/v1/shares'));
  const [log, setLog] = useState(null);
  const showLog = async (l) => setLog({ link: l, accesses: (await api('GET', `/api/v1/shares/${l.id}/accesses`)).accesses });
  const revoke = async (l) => {
    await api('DELETE', `/api/v1/shares/${l.id}`);
    reload();
  };
  const links = s.data ? s.data.shares : [];
  return html`<${Page} title="Share links">
    <${Failed} error=${s.error} />
    ${s.data && !links.length ? html`<p class="state empty">You have no share links. Select a file or folder and choose “Share”.</p>` : null}
    <ul class="rows">${links.map((l) => html`<li data-share=${l.id}>
      <span class="grow"><strong>${l.root}/${l.path}</strong> <span class="muted">${l.uploadOnly ? 'upload only' : 'download'}${l.hasPassword ? ' · password' : ''}${l.expiresAt ? ` · until ${date(l.expiresAt)}` : ''} · ${shareState(l)}</span></span>
      <button type="button" class="secondary" aria-label=${`Access log of ${l.path}`} onClick=${() => showLog(l)}>Access log</button>
      ${l.state === 'active' ? html`<button type="button" class="danger" aria-label=${`Revoke link to ${l.path}`} onClick=${() => revoke(l)}>Revoke</button>` : null}
    </li>`)}</ul>
    ${log ? html`<section class="log" aria-label="Access log"><h2>Access log of ${log.link.root}/${log.link.path}</h2>
      ${log.accesses.length ? html`<div class="scroll"><table><thead><tr><th>When</th><th>What</th><th>From</th><th class="num">Bytes</th></tr></thead>
      <tbody>${log.accesses.map((a) => html`<tr><td>${date(a.at)}</td><td>${a.action}${a.path ? ` ${a.path}` : ''}</td><td>${a.address || ''}</td><td class="num">${a.bytes}</td></tr>`)}</tbody></table></div>` : html`<p class="muted">Nobody used this link yet.</p>`}
    </section>` : null}
  <//>`;
}

/** My devices, API tokens (shown once at creation) and password. */
export function AccountView({ notify }) {
  const [devices, reloadDevices] = useData(() => api('GET', '/api/v1/me/device-sync'));
  const [pairing, setPairing] = useState(null);
  const pair = async () => setPairing(await api('POST', '/api/v1/me/pairing-codes').catch((e) => ({ error: e.message })));
  const [tokens, reloadTokens] = useData(() => api('GET', '/api/v1/me/tokens'));
  const [dialog, setDialog] = useState(null);
  const [newToken, setNewToken] = useState(null);
  const close = () => setDialog(null);
  const addToken = () => setDialog(html`<${FormDialog} title="New API token" submit="Create" onClose=${close} action=${async (f) => { setNewToken(await api('POST', '/api/v1/me/tokens', { name: String(f.get('name')) })); reloadTokens(); }}>
    <label>Name (what will use it) <input name="name" required autofocus /></label><//>`);
  const changePassword = () => setDialog(html`<${FormDialog} title="Change password" submit="Change" onClose=${close} action=${async (f) => { await api('PUT', '/api/v1/me/password', { current: String(f.get('current')), password: String(f.get('password')) }); notify('Password changed: log in again with the new one.'); location.assign('/'); }}>
    <label>Current password <input name="current" type="password" autocomplete="current-password" required /></label>
    <label>New password (8 characters or more) <input name="password" type="password" autocomplete="new-password" minlength="8" required /></label><//>`);
  const revokeDevice = async (d) => {
    await api('DELETE', `/api/v1/me/devices/${d.id}`);
    reloadDevices();
  };
  const revokeToken = async (t) => {
    await api('DELETE', `/api/v1/me/tokens/${t.id}`);
    reloadTokens();
  };
  return html`<${Page} title="Account">
    <h2>Devices</h2>
    <${Failed} error=${devices.error} />
    ${devices.data && !devices.data.devices.length ? html`<p class="muted">No device uses the companion client yet.</p>` : null}
    <ul class="rows">${(devices.data?.devices || []).map((d) => html`<li data-device=${d.id}>
      <span class="grow"><strong>${d.name}</strong> <span class="muted">${d.revoked ? 'revoked · ' : ''}${d.lastSeenAt ? `last seen ${date(d.lastSeenAt)}` : 'never seen'}${d.lastAddress ? ` from ${d.lastAddress}` : ''}</span>
        ${d.roots.length ? html`<br /><span class="behind">${d.roots.map((c) => `${c.root}: ${c.behind ? `${c.behind} change${c.behind === 1 ? '' : 's'} behind` : 'up to date'}`).join(' · ')}</span>` : null}</span>
      ${d.revoked ? null : html`<button type="button" class="danger" aria-label=${`Revoke device ${d.name}`} onClick=${() => revokeDevice(d)}>Revoke</button>`}
    </li>`)}</ul>
    <p class="muted">A new device: install the companion client and give it a pairing code (valid for a few minutes, usable once).</p>
    <button type="button" class="secondary" onClick=${pair}>New pairing code</button>
    ${pairing ? (pairing.error ? html`<p class="error" role="alert">${pairing.error}</p>` : html`<p class="created" role="status">Pairing code: <strong id="pairing-code">${pairing.code}</strong> <span class="muted">valid until ${date(pairing.expiresAt)}</span></p>`) : null}
    <h2>API tokens</h2>
    <p class="muted">A token works as a password for WebDAV, FTP and scripts, and can be revoked alone.</p>
    <button type="button" onClick=${addToken}>New token</button>
    ${newToken ? html`<div class="created"><label>Token “${newToken.name}” (shown once) <input id="new-token" readonly value=${newToken.token} onFocus=${(e) => e.currentTarget.select()} /></label></div>` : null}
    <${Failed} error=${tokens.error} />
    <ul class="rows">${(tokens.data?.tokens || []).map((t) => html`<li data-token=${t.id}>
      <span class="grow"><strong>${t.name}</strong> <span class="muted">created ${date(t.createdAt)}${t.lastUsedAt ? ` · last used ${date(t.lastUsedAt)}` : ''}</span></span>
      <button type="button" class="danger" aria-label=${`Revoke token ${t.name}`} onClick=${() => revokeToken(t)}>Revoke</button>
    </li>`)}</ul>
    <h2>Password</h2>
    <button type="button" class="secondary" onClick=${changePassword}>Change password</button>
    ${dialog}
  <//>`;
}

const RETENTION = { all: 'Keep every version', count: 'Keep the last N versions', days: 'Keep versions for N days', staggered: 'Staggered, up to N days' };
// What an outdated edit does in a root (docs/conflict-policy.md); every choice keeps both contents.
const CONFLICTS = {
  'keep-both': 'Keep both: the other edit becomes a conflict copy',
  'newest-wins': 'Newest wins: the later edit becomes the file, the other is kept in history',
  'server-wins': 'Server wins: the file stays, the other edit is kept with the conflict',
};
const retentionText = (r) => (r.mode === 'all' ? RETENTION.all : r.mode === 'count' ? `last ${r.keep} versions` : r.mode === 'days' ? `${r.days} days` : `staggered, ${r.maxAgeDays} days`);

/** Users (create, disable, reset password) and roots (create, share, retention): admins only. */
export function AdminView({ me, notify, onRootsChanged }) {
  const [users, reloadUsers] = useData(() => api('GET', '/api/v1/users'));
  // Every root, with its owner and grants: an admin manages them all, without access to their files.
  const [roots, reloadRoots] = useData(() => api('GET', '/api/v1/admin/roots'));
  const [dialog, setDialog] = useState(null);
  const close = () => setDialog(null);
  const form = (title, submit, action, fields) => setDialog(html`<${FormDialog} title=${title} submit=${submit} onClose=${close} action=${action}>${fields}<//>`);
  const addUser = () => form('New user', 'Create', async (f) => { await api('POST', '/api/v1/users', { name: String(f.get('name')), password: String(f.get('password')), isAdmin: f.get('admin') === 'on' }); notify(`User ${f.get('name')} created.`); reloadUsers(); }, html`
    <label>Name <input name="name" required autofocus autocomplete="off" /></label>
    <label>Password (8 characters or more) <input name="password" type="password" minlength="8" required autocomplete="new-password" /></label>
    <label class="check"><input type="checkbox" name="admin" /> Administrator</label>`);
  const resetPassword = (u) => form(`Reset the password of ${u.name}`, 'Set password', async (f) => { await api('PATCH', `/api/v1/users/${encodeURIComponent(u.name)}`, { password: String(f.get('password')) }); notify(`Password of ${u.name} changed.`); }, html`
    <label>New password (8 characters or more) <input name="password" type="password" minlength="8" required autocomplete="new-password" autofocus /></label>`);
  const setDisabled = async (u, disabled) => {
    await api('PATCH', `/api/v1/users/${encodeURIComponent(u.name)}`, { disabled }).catch((e) => notify(e.message));
    reloadUsers();
  };
  const addRoot = () => form('New root', 'Create', async (f) => { await api('POST', '/api/v1/roots', { name: String(f.get('name')), dir: String(f.get('dir')), ...(f.get('owner') ? { owner: String(f.get('owner')) } : {}) }); notify(`Root ${f.get('name')} created.`); reloadRoots(); onRootsChanged(); }, html`
    <label>Name <input name="name" required autofocus autocomplete="off" /></label>
    <label>Folder on the server (absolute path) <input name="dir" required autocomplete="off" placeholder="/srv/files/team" /></label>
    <label>Owner (empty: you) <input name="owner" autocomplete="off" /></label>`);
  const share = (r) => setDialog(html`<${GrantsDialog} root=${r} onClose=${() => { close(); reloadRoots(); }} />`);
  const retention = (r) => form(`Old versions of ${r.name}`, 'Save', async (f) => {
    const mode = String(f.get('mode'));
    const n = Number(f.get('n'));
    const policy = mode === 'all' ? { mode } : mode === 'count' ? { mode, keep: n } : mode === 'days' ? { mode, days: n } : { mode, maxAgeDays: n };
    await api('PUT', `${rootUrl(r.name, 'retention')}`, policy);
    notify(`Retention of ${r.name}: ${retentionText(policy)}.`);
    reloadRoots();
  }, html`
    <label>Policy <select name="mode">${Object.entries(RETENTION).map(([k, v]) => html`<option value=${k} selected=${r.retention?.mode === k}>${v}</option>`)}</select></label>
    <label>N (versions or days) <input name="n" type="number" min="1" value=${r.retention?.keep ?? r.retention?.days ?? r.retention?.maxAgeDays ?? 30} /></label>`);
  const conflicts = (r) => form(`Conflicts in ${r.name}`, 'Save', async (f) => {
    const conflictPolicy = String(f.get('conflictPolicy'));
    await api('PATCH', `/api/v1/roots/${encodeURIComponent(r.name)}`, { conflictPolicy });
    notify(`Conflicts in ${r.name}: ${conflictPolicy.replace('-', ' ')}.`);
    reloadRoots();
  }, html`
    <label>When two edits meet <select name="conflictPolicy">${Object.entries(CONFLICTS).map(([k, v]) => html`<option value=${k} selected=${(r.conflictPolicy || 'keep-both') === k}>${v}</option>`)}</select></label>
    <p class="muted">Whatever is chosen, nothing is lost: each conflict is listed beside its file and can be undone.</p>`);
  return html`<${Page} title="Administration">
    <h2>Users</h2>
    <button type="button" onClick=${addUser}>New user</button>
    <${Failed} error=${users.error} />
    <ul class="rows">${(users.data?.users || []).map((u) => html`<li data-user=${u.name}>
      <span class="grow"><strong>${u.name}</strong> <span class="muted">${u.isAdmin ? 'admin' : 'user'}${u.disabled ? ' · disabled' : ''}</span></span>
      <button type="button" class="secondary" aria-label=${`Reset password of ${u.name}`} onClick=${() => resetPassword(u)}>Reset password</button>
      ${u.name !== me.name ? html`<button type="button" class=${u.disabled ? 'secondary' : 'danger'} aria-label=${`${u.disabled ? 'Enable' : 'Disable'} ${u.name}`} onClick=${() => setDisabled(u, !u.disabled)}>${u.disabled ? 'Enable' : 'Disable'}</button>` : null}
    </li>`)}</ul>
    <h2>Roots</h2>
    <button type="button" onClick=${addRoot}>New root</button>
    <${Failed} error=${roots.error} />
    <ul class="rows">${(roots.data?.roots || []).map((r) => html`<li data-root=${r.name}>
      <span class="grow"><strong>${r.name}</strong> <span class="muted">owner ${r.owner || '—'} · ${retentionText(r.retention || { mode: 'all' })} · conflicts: ${(r.conflictPolicy || 'keep-both').replace('-', ' ')}${r.grants?.length ? ` · shared with ${r.grants.map((g) => `${g.user} (${g.mode})`).join(', ')}` : ''}${r.access ? '' : ' · files not open to you'}</span></span>
      <button type="button" class="secondary" aria-label=${`Share root ${r.name}`} onClick=${() => share(r)}>Share</button>
      <button type="button" class="secondary" aria-label=${`Retention of ${r.name}`} onClick=${() => retention(r)}>Retention</button>
      <button type="button" class="secondary" aria-label=${`Conflicts in ${r.name}`} onClick=${() => conflicts(r)}>Conflicts</button>
    </li>`)}</ul>
    ${dialog}
  <//>`;
}

/** Who a root is shared with; add a user for read or write, or stop sharing. */
function GrantsDialog({ root, onClose }) {
  const [grants, reload] = useData(() => api('GET', rootUrl(root.name, 'grants')), [root.name]);
  const grant = async (f) => {
    await api('PUT', `${rootUrl(root.name, 'grants')}/${encodeURIComponent(String(f.get('user')))}`, { mode: String(f.get('mode')) });
    reload();
    return 'keep';
  };
  const revoke = async (g) => {
    await api('DELETE', `${rootUrl(root.name, 'grants')}/${encodeURIComponent(g.user)}`);
    reload();
  };
  return html`<${FormDialog} title="Share root ${root.name}" submit="Share" onClose=${onClose} action=${grant}>
    <ul class="rows">${(grants.data?.grants || []).map((g) => html`<li data-grant=${g.user}><span class="grow">${g.user} · ${g.mode}</span>
      <button type="button" class="danger" aria-label=${`Stop sharing with ${g.user}`} onClick=${() => revoke(g)}>Stop sharing</button></li>`)}</ul>
    <label>User <input name="user" required autocomplete="off" /></label>
    <label>Access <select name="mode"><option value="read">Read</option><option value="write">Read and write</option></select></label>
  <//>`;
}
