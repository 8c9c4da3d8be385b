// The conflict dialog: two edits side by side, or what the root's conflict policy kept, by kind.
import { html, size, date } from './lib.js';
import { api, rootUrl } from './api.js';
import { Modal } from './dialogs.js';
import { useLoad } from './actions.js';

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

/**
 * A conflict record, worded by its kind: two edits side by side when there is a copy; otherwise
 * what the root's policy kept and what undoing it means (ConflictNoCopy). A delete has no content,
 * so its dialogs never speak of "the other version".
 */
export function ConflictDialog(props) {
  return props.conflict.copyPath ? html`<${ConflictSides} ...${props} />` : html`<${ConflictNoCopy} ...${props} />`;
}

function useResolve(root, conflict, onClose, onDone) {
  return async (resolution, what) => {
    await api('POST', rootUrl(root, `conflicts/${conflict.id}/resolve`), { resolution });
    onDone(`Conflict on “${conflict.path}” resolved: ${what}.`);
    onClose();
  };
}

const POLICY = { 'keep-both': 'keep both', 'newest-wins': 'newest wins', 'server-wins': 'server wins' };

/** Text and choices per kind and kept side; `resolution` is the wire name each button sends. */
function noCopyWording(c, from) {
  const policy = `the root’s conflict policy (${POLICY[c.policy] || c.policy})`;
  if (c.kind === 'delete-edit') {
    return { text: `“${c.path}” was deleted ${from}, from version ${c.baseVersion}, but it had been edited since (version ${c.serverVersion}): nothing was deleted.`,
      choices: [['keep-server', 'Keep the file', 'the file kept'], ['keep-incoming', 'Delete it', 'the file deleted']] };
  }
  if (c.kind === 'edit-delete' && c.kept === 'incoming') {
    return { text: `“${c.path}” was deleted (version ${c.serverVersion}) while it was edited ${from}, from version ${c.baseVersion}. The edit brought it back.`,
      choices: [['keep-incoming', 'Keep the file', 'the file kept'], ['keep-server', 'Delete it', 'the file deleted']] };
  }
  if (c.kind === 'edit-delete') {
    return { text: `“${c.path}” was deleted (version ${c.serverVersion}) while it was edited ${from}, from version ${c.baseVersion}. By ${policy} it stays deleted; the edit is kept with this conflict.`,
      choices: [['keep-server', 'Leave it deleted', 'the file left deleted'], ['keep-incoming', 'Restore the edit', 'the edit restored']] };
  }
  if (c.kept === 'incoming') {
    return { text: `Two edits were made from version ${c.baseVersion}. By ${policy} the one ${from} replaced version ${c.serverVersion}, which is in the file’s history.`,
      choices: [['keep-incoming', 'Keep the current file', 'the current file kept'], ['keep-server', `Go back to version ${c.serverVersion}`, `version ${c.serverVersion} restored`], ['keep-both', `Keep both (version ${c.serverVersion} as a copy)`, 'both kept']] };
  }
  return { text: `Two edits were made from version ${c.baseVersion}. By ${policy} the current file stayed; the edit ${from} is kept with this conflict, not as a file.`,
    choices: [['keep-server', 'Keep the current file', 'the current file kept'], ['keep-incoming', 'Use the held edit', 'the held edit used'], ['keep-both', 'Keep both (the edit as a copy)', 'both kept']] };
}

function ConflictNoCopy({ root, conflict, onClose, onDone }) {
  const resolve = useResolve(root, conflict, onClose, onDone);
  const from = conflict.device ? `from ${conflict.device}` : `by ${conflict.user || 'another writer'}`;
  const { text, choices } = noCopyWording(conflict, `${from} (${date(conflict.createdAt)})`);
  return html`<${Modal} title="Conflict on “${conflict.path}”" onClose=${onClose}>
    <p class="conflict-text">${text}</p>
    <div class="actions">${choices.map(([resolution, label, what], i) => html`<button type="button" class=${i === 0 ? '' : 'secondary'} data-resolution=${resolution} onClick=${() => resolve(resolution, what)}>${label}</button>`)}</div>
  <//>`;
}

/** Current file and conflict copy side by side; keep current, keep the copy, or keep both. */
function ConflictSides({ root, conflict, onClose, onDone }) {  const [sides] = useLoad(async () => {
    const [cur, copy] = await Promise.all([api('GET', rootUrl(root, 'stat', conflict.path)).catch(() => null), api('GET', rootUrl(root, 'stat', conflict.copyPath)).catch(() => null)]);
    let text = null;
    if (TEXT.test(conflict.path) && (cur?.size ?? 0) < 65536 && (copy?.size ?? 0) < 65536) text = await Promise.all([textOf(root, conflict.path), textOf(root, conflict.copyPath)]);
    return { cur, copy, text, changed: text ? changedLines(text[0].split('\n'), text[1].split('\n')) : null };
  }, [conflict.id]);
  const resolve = useResolve(root, conflict, onClose, onDone);
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
