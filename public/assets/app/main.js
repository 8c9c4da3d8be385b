// The web page: login, then the file manager (roots, folders, uploads, shares, account, admin).
import { html, render, useState, useEffect, useRef } from './lib.js';
import { api, setCsrf, onLoggedOut, ApiError } from './api.js';
import { useRoute, navigate, filesHref, linkClick } from './router.js';
import { FilesView } from './files.js';
import { TrashView, SharesView, AccountView, AdminView } from './pages.js';
import { useUploads, UploadPanel } from './upload.js';

function Login({ onLogin, notice }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const user = useRef(null);
  useEffect(() => user.current?.focus(), []);
  const submit = async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    setBusy(true);
    setError('');
    try {
      const out = await api('POST', '/api/v1/login', { user: String(f.get('user')), password: String(f.get('password')), mode: 'cookie' });
      setCsrf(out.csrfToken);
      onLogin(out.user);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 429 ? 'Too many attempts. Try again later.' : e.message);
      setBusy(false);
    }
  };
  return html`<main id="main"><form id="login-form" class="card narrow" onSubmit=${submit}>
    <h1>Log in</h1>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    <label>User <input id="login-user" name="user" ref=${user} autocomplete="username" required /></label>
    <label>Password <input id="login-password" name="password" type="password" autocomplete="current-password" required /></label>
    <button type="submit" disabled=${busy}>Log in</button>
    <p id="login-error" class="error" role="alert">${error}</p>
  </form></main>`;
}

function Shell({ me, onLogout }) {
  const route = useRoute();
  const [roots, setRoots] = useState(null);
  const [rootsError, setRootsError] = useState(null);
  const [notice, setNotice] = useState('');
  const [menu, setMenu] = useState(false);
  const loadRoots = () => api('GET', '/api/v1/roots').then((r) => setRoots(r.roots), setRootsError);
  useEffect(() => {
    loadRoots();
  }, []);
  const uploads = useUploads(() => {});
  const notify = (text) => setNotice(text);
  useEffect(() => setMenu(false), [route]);

  // "/" and "/app" open the first root; a root that is not (or no longer) visible says so.
  useEffect(() => {
    if (route.view === 'home' && roots && roots.length) navigate(filesHref(roots[0].name), { replace: true });
  }, [route.view, roots]);
  const rootInfo = roots && route.root ? roots.find((r) => r.name === route.root) : null;

  let view = null;
  if (rootsError) view = html`<p class="error" role="alert">${rootsError.message}</p>`;
  else if (!roots) view = html`<p class="muted" role="status">Loading…</p>`;
  else if (route.view === 'files' || route.view === 'trash') {
    if (!rootInfo) view = html`<section class="card state error" role="alert"><h1>No root “${route.root}”</h1><p>It does not exist or is not shared with you.</p></section>`;
    else if (route.view === 'files') view = html`<${FilesView} key=${route.root} root=${route.root} dir=${route.dir} rootInfo=${rootInfo} uploads=${uploads} notify=${notify} />`;
    else view = html`<${TrashView} root=${route.root} notify=${notify} />`;
  } else if (route.view === 'shares') view = html`<${SharesView} />`;
  else if (route.view === 'account') view = html`<${AccountView} notify=${notify} />`;
  else if (route.view === 'admin' && me.isAdmin) view = html`<${AdminView} me=${me} notify=${notify} onRootsChanged=${loadRoots} />`;
  else if (roots && !roots.length) view = html`<section class="card state"><h1>No roots yet</h1><p>Nothing is shared with you yet.${me.isAdmin ? ' Create a root under Administration.' : ''}</p></section>`;

  const mine = (roots || []).filter((r) => r.access === 'owner');
  const shared = (roots || []).filter((r) => r.access !== 'owner');
  const rootLink = (r) => html`<li><a href=${filesHref(r.name)} onClick=${linkClick} data-root=${r.name} class=${route.root === r.name && route.view === 'files' ? 'active' : ''} aria-current=${route.root === r.name && route.view === 'files' ? 'page' : undefined}>${r.name}${r.access !== 'owner' ? html` <span class="muted">(${r.owner}, ${r.access})</span>` : null}</a></li>`;
  const navLink = (href, label, active) => html`<a href=${href} onClick=${linkClick} class=${active ? 'active' : ''} aria-current=${active ? 'page' : undefined}>${label}</a>`;
  return html`<header>
      <a class="brand" href="/app" onClick=${linkClick}>syncgate</a>
      <button type="button" class="menu-toggle secondary" aria-expanded=${menu} aria-controls="side" onClick=${() => setMenu(!menu)}>Menu</button>
      <span id="who" class="muted">${me.name}</span>
      <button id="logout" type="button" class="secondary" onClick=${onLogout}>Log out</button>
    </header>
    <div class="layout">
      <nav id="side" class=${menu ? 'open' : ''} aria-label="Places">
        <h2>My roots</h2><ul id="roots">${mine.map(rootLink)}</ul>
        ${shared.length ? html`<h2>Shared with me</h2><ul>${shared.map(rootLink)}</ul>` : null}
        ${route.root && rootInfo ? html`<p>${navLink(`/app/trash/${encodeURIComponent(route.root)}`, `Deleted files in ${route.root}`, route.view === 'trash')}</p>` : null}
        <ul class="places">
          <li>${navLink('/app/shares', 'Share links', route.view === 'shares')}</li>
          <li>${navLink('/app/account', 'Devices and tokens', route.view === 'account')}</li>
          ${me.isAdmin ? html`<li>${navLink('/app/admin', 'Administration', route.view === 'admin')}</li>` : null}
        </ul>
      </nav>
      <main id="main">
        ${notice ? html`<p id="notice" class="notice" role="status">${notice} <button type="button" class="icon" aria-label="Dismiss" onClick=${() => setNotice('')}>✕</button></p>` : null}
        ${view}
        <${UploadPanel} uploads=${uploads} />
      </main>
    </div>`;
}

function App() {
  const [me, setMe] = useState(undefined); // undefined: asking the server; null: logged out
  const [notice, setNotice] = useState('');
  useEffect(() => {
    // Always ask the server: the session cookie outlives the tab, and only the server knows it.
    api('GET', '/api/v1/session').then(
      (m) => {
        setCsrf(m.csrfToken);
        setMe(m.user);
      },
      () => setMe(null),
    );
    onLoggedOut(() => {
      setCsrf('');
      setMe((was) => {
        if (was) setNotice('Your session ended (logged out elsewhere or the password changed). Log in again.');
        return null;
      });
    });
  }, []);
  const logout = async () => {
    // Leave the shell first: its live stream and pending reloads would otherwise ask once more after
    // the session ends, and each 401 is a console error.
    setNotice('');
    setMe(null);
    await new Promise((r) => setTimeout(r, 0));
    await api('POST', '/api/v1/logout').catch(() => {});
    setCsrf('');
  };
  if (me === undefined) return html`<main id="main"><p class="muted" role="status">Loading…</p></main>`;
  if (!me) return html`<header><span class="brand">syncgate</span></header><${Login} notice=${notice} onLogin=${(u) => { setNotice(''); setMe(u); }} />`;
  return html`<${Shell} me=${me} onLogout=${logout} />`;
}

render(html`<${App} />`, document.getElementById('app'));
