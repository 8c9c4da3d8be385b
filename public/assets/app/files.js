// The folder browser: listing with natural sort (folders first), sortable columns, filter,
// multi-select and the actions on the selection; uploads by picker and drag-and-drop; live updates.
import { html, size, date, compareNames, parentOf, joinPath, useState, useEffect, useRef, useMemo } from './lib.js';
import { api, rootUrl, ApiError } from './api.js';
import { filesHref, linkClick, navigate } from './router.js';
import { PromptDialog, ConfirmDialog, ReplaceDialog } from './dialogs.js';
import { droppedFiles } from './upload.js';
import { MoveDialog, HistoryDialog, ShareDialog } from './actions.js';
import { ConflictDialog } from './conflicts.js';

const COLUMNS = [
  ['name', 'Name'],
  ['size', 'Size'],
  ['mtime', 'Modified'],
];

function sorted(entries, sort) {
  const factor = sort.desc ? -1 : 1;
  return [...entries].sort((a, b) => {
    if (a.kind !== b.kind) return a.kind === 'dir' ? -1 : 1;
    const by = sort.by === 'size' ? a.size - b.size : sort.by === 'mtime' ? a.mtimeMs - b.mtimeMs : 0;
    return factor * (by || compareNames(a.name, b.name));
  });
}

/**
 * The deepest folder on the way to `dir` that still exists, found by listing downward from the
 * root (every request succeeds: asking for what is gone would log errors in the console).
 */
async function nearestExisting(root, dir) {
  let at = '';
  for (const part of dir.split('/').slice(0, -1)) {
    const { entries } = await api('GET', rootUrl(root, 'list', at)).catch(() => ({ entries: [] }));
    const next = entries.find((e) => e.name === part && e.kind === 'dir');
    if (!next) break;
    at = next.path;
  }
  return at;
}

export function FilesView({ root, dir, rootInfo, uploads, notify }) {
  const key = `${root}\n${dir}`;
  const [listing, setListing] = useState(null); // { key, entries, conflicts }
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);
  const [sort, setSort] = useState({ by: 'name', desc: false });
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState(new Set());
  const [dialog, setDialog] = useState(null);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef(null);
  const folderInput = useRef(null);
  const writable = rootInfo && rootInfo.access !== 'read';
  const reload = () => setTick((n) => n + 1);

  async function leaveGoneFolder() {
    const to = await nearestExisting(root, dir);
    notify(`The folder “${dir}” no longer exists: showing ${to ? `“${to}”` : root} instead.`);
    navigate(filesHref(root, to), { replace: true });
  }

  useEffect(() => {
    let live = true;
    if (!listing || listing.key !== key) {
      // A new place: nothing of the old one stays on screen, and nothing can be done in it.
      setListing(null);
      setSelected(new Set());
      setFilter('');
    }
    setError(null);
    (async () => {
      try {
        const [{ entries }, conflicts] = await Promise.all([
          api('GET', rootUrl(root, 'list', dir)),
          api('GET', rootUrl(root, 'conflicts')).then((c) => c.conflicts, () => []),
        ]);
        if (live) setListing({ key, entries, conflicts });
      } catch (e) {
        if (!live) return;
        if (e instanceof ApiError && e.status === 404 && dir) return leaveGoneFolder();
        setListing(null);
        setError(e);
      }
    })();
    return () => {
      live = false;
    };
  }, [key, tick]);

  // Live updates (the root's SSE stream): re-list when this folder changes; leave it if it goes.
  useEffect(() => {
    const es = new EventSource(rootUrl(root, 'events'));
    let timer = null;
    es.addEventListener('change', (ev) => {
      const c = JSON.parse(ev.data);
      const touches = (p) => p !== null && p !== undefined && (dir === p || dir.startsWith(`${p}/`));
      if (dir && (touches(c.path) && c.deleted || touches(c.oldPath))) {
        clearTimeout(timer);
        timer = setTimeout(async () => {
          const to = await nearestExisting(root, `${dir}/x`);
          if (to === dir) reload();
          else leaveGoneFolder();
        }, 100);
        return;
      }
      if (parentOf(c.path) !== dir && !(c.oldPath && parentOf(c.oldPath) === dir)) return;
      clearTimeout(timer);
      timer = setTimeout(reload, 150);
    });
    return () => {
      clearTimeout(timer);
      es.close();
    };
  }, [key]);

  // Focus lands on the new content after navigation (keyboard and screen-reader users).
  const heading = useRef(null);
  useEffect(() => {
    if (listing && listing.key === key && document.activeElement === document.body) heading.current?.focus();
  }, [listing && listing.key]);

  const ready = listing && listing.key === key;
  const entries = ready ? listing.entries : [];
  const conflictOf = useMemo(() => {
    const m = new Map();
    for (const c of ready ? listing.conflicts : []) if (!c.resolvedAt) m.set(c.path, c).set(c.copyPath || c.path, c);
    return m;
  }, [listing]);
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return sorted(f ? entries.filter((e) => e.name.toLowerCase().includes(f)) : entries, sort);
  }, [entries, filter, sort]);
  const chosen = entries.filter((e) => selected.has(e.path));
  const one = chosen.length === 1 ? chosen[0] : null;

  const toggle = (p) => {
    const s = new Set(selected);
    if (s.has(p)) s.delete(p);
    else s.add(p);
    setSelected(s);
  };
  const allShown = shown.length > 0 && shown.every((e) => selected.has(e.path));
  const toggleAll = () => setSelected(allShown ? new Set() : new Set(shown.map((e) => e.path)));
  const done = (message) => {
    setSelected(new Set());
    if (message) notify(message);
    reload();
  };

  const ask = (name, remaining) => new Promise((resolve) => setDialog(html`<${ReplaceDialog} name=${name} remaining=${remaining} onAnswer=${(choice, all) => { setDialog(null); resolve({ choice, all }); }} />`));
  // Uploads go to the folder whose listing is on screen, never to a place that failed to load.
  // (The server makes missing parent folders for tus uploads: the folder is checked first, so a
  // folder deleted meanwhile is not silently made again.)
  const upload = async (files) => {
    if (!ready || !files.length) return;
    if (dir && !(await api('GET', rootUrl(root, 'stat', dir)).then((e) => e.kind === 'dir', () => false))) return leaveGoneFolder();
    uploads.add(files, root, dir, entries, ask);
  };
  const picked = (ev) => {
    const files = Array.from(ev.currentTarget.files).map((file) => ({ file, rel: file.webkitRelativePath || file.name }));
    ev.currentTarget.value = '';
    upload(files);
  };
  const onDrop = async (ev) => {
    ev.preventDefault();
    setDragging(false);
    if (writable) upload(await droppedFiles(ev.dataTransfer));
  };

  function download(list) {
    for (const e of list) {
      const a = document.createElement('a');
      a.href = e.kind === 'dir' ? rootUrl(root, 'zip', e.path) : rootUrl(root, 'files', e.path);
      a.download = e.kind === 'dir' ? `${e.name}.zip` : e.name;
      document.body.append(a);
      a.click();
      a.remove();
    }
  }

  const open = (d) => setDialog(d);
  const close = () => setDialog(null);
  const newFolder = () => open(html`<${PromptDialog} title="New folder" label="Folder name" submit="Create" onClose=${close} onSubmit=${async (name) => { await api('POST', rootUrl(root, 'mkdir'), { path: joinPath(dir, name) }); done(`Folder “${name}” created.`); }} />`);
  const rename = (e) => open(html`<${PromptDialog} title="Rename “${e.name}”" label="New name" value=${e.name} submit="Rename" onClose=${close} onSubmit=${async (name) => { await api('POST', rootUrl(root, 'move'), { from: e.path, to: joinPath(dir, name) }); done(`Renamed to “${name}”.`); }} />`);
  const remove = (list) => open(html`<${ConfirmDialog} title="Delete ${list.length === 1 ? `“${list[0].name}”` : `${list.length} items`}?" text="Deleted files can be restored from “Deleted files”." submit="Delete" onClose=${close} onConfirm=${async () => { for (const e of list) await api('DELETE', rootUrl(root, 'files', e.path)); done(`${list.length} item(s) deleted.`); }} />`);
  const moveOrCopy = (list, mode) => open(html`<${MoveDialog} mode=${mode} root=${root} dir=${dir} items=${list} onClose=${close} onDone=${done} />`);

  return html`<section class=${`card files${dragging ? ' dragging' : ''}`} onDragOver=${(e) => { if (writable) { e.preventDefault(); setDragging(true); } }} onDragLeave=${() => setDragging(false)} onDrop=${onDrop}>
    <nav class="crumbs" aria-label="Folder path">
      <a href=${filesHref(root)} onClick=${linkClick}>${root}</a>
      ${(dir ? dir.split('/') : []).map((p, i, all) => html` / <a href=${filesHref(root, all.slice(0, i + 1).join('/'))} onClick=${linkClick} aria-current=${i === all.length - 1 ? 'page' : undefined}>${p}</a>`)}
    </nav>
    <h1 tabindex="-1" ref=${heading}>${dir ? dir.split('/').pop() : root}</h1>
    <div class="toolbar">
      ${writable ? html`<button type="button" onClick=${newFolder} disabled=${!ready}>New folder</button>
        <button type="button" onClick=${() => fileInput.current.click()} disabled=${!ready}>Upload files</button>
        <button type="button" class="secondary" onClick=${() => folderInput.current.click()} disabled=${!ready}>Upload folder</button>
        <input ref=${fileInput} id="pick-files" type="file" multiple hidden onChange=${picked} aria-label="Files to upload" />
        <input ref=${folderInput} id="pick-folder" type="file" webkitdirectory hidden onChange=${picked} aria-label="Folder to upload" />` : html`<span class="muted">Read-only: shared with you by ${rootInfo?.owner}</span>`}
      <input type="search" class="filter" placeholder="Filter by name" aria-label="Filter by name" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} />
    </div>
    ${chosen.length ? html`<div class="selection" role="toolbar" aria-label="Selection">
      <span>${chosen.length} selected</span>
      <button type="button" class="secondary" onClick=${() => download(chosen)}>Download</button>
      ${writable && one ? html`<button type="button" class="secondary" onClick=${() => rename(one)}>Rename</button>` : null}
      ${writable ? html`<button type="button" class="secondary" onClick=${() => moveOrCopy(chosen, 'move')}>Move</button>` : null}
      <button type="button" class="secondary" onClick=${() => moveOrCopy(chosen, 'copy')}>Copy</button>
      ${one && one.kind === 'file' ? html`<button type="button" class="secondary" onClick=${() => open(html`<${HistoryDialog} root=${root} entry=${one} writable=${writable} onClose=${close} onDone=${done} />`)}>History</button>` : null}
      ${writable && one ? html`<button type="button" class="secondary" onClick=${() => open(html`<${ShareDialog} root=${root} entry=${one} onClose=${close} />`)}>Share</button>` : null}
      ${writable ? html`<button type="button" class="danger" onClick=${() => remove(chosen)}>Delete</button>` : null}
    </div>` : null}
    ${error ? html`<div class="state error" role="alert"><p>This folder could not be opened: ${error.message}</p><button type="button" onClick=${reload}>Try again</button></div>` : null}
    ${!ready && !error ? html`<p class="state muted" role="status">Loading…</p>` : null}
    ${ready ? html`<table class="listing">
      <thead><tr>
        <th class="pick"><label class="hit"><input type="checkbox" checked=${allShown} onChange=${toggleAll} aria-label="Select all" /></label></th>
        ${COLUMNS.map(([by, label]) => html`<th class=${`col-${by}`} aria-sort=${sort.by === by ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
          <button type="button" class="sort" onClick=${() => setSort({ by, desc: sort.by === by ? !sort.desc : false })}>${label}${sort.by === by ? (sort.desc ? ' ↓' : ' ↑') : ''}</button></th>`)}
      </tr></thead>
      <tbody>${shown.map((e) => {
        const c = conflictOf.get(e.path);
        return html`<tr key=${e.path} data-path=${e.path} class=${selected.has(e.path) ? 'selected' : ''}>
          <td class="pick"><label class="hit"><input type="checkbox" checked=${selected.has(e.path)} onChange=${() => toggle(e.path)} aria-label=${`Select ${e.name}`} /></label></td>
          <td class="col-name">
            ${e.kind === 'dir' ? html`<a class="dir" href=${filesHref(root, e.path)} onClick=${linkClick}>${e.name}/</a>` : html`<a class="file" href=${rootUrl(root, 'files', e.path)} download=${e.name}>${e.name}</a>`}
            ${c ? html` <button type="button" class="badge conflict" onClick=${() => open(html`<${ConflictDialog} root=${root} conflict=${c} onClose=${close} onDone=${done} />`)}>Conflict</button>` : null}
          </td>
          <td class="col-size num">${e.kind === 'dir' ? '' : size(e.size)}</td>
          <td class="col-mtime">${date(e.mtime)}</td>
        </tr>`;
      })}</tbody>
    </table>
    ${!entries.length ? html`<p class="state empty">This folder is empty.${writable ? ' Drop files here or use “Upload files”.' : ''}</p>` : !shown.length ? html`<p class="state empty">No name contains “${filter}”.</p>` : null}` : null}
    ${dialog}
  </section>`;
}
