// The application shell: reads the session, routes between pages with the History API and draws
// the top bar. Pages are modules under /pages/ exporting `render(ctx)`.

import * as api from '/client/api.js';
import { h, toast } from '/ui/dom.js';
import { avatarFor } from '/ui/avatar.js';
import { applyTheme, savedTheme, saveTheme } from '/ui/theme.js';
import { startOffice, stopOffice, runningOffice } from '/live/live-office.js';
import { presenceControl } from '/ui/presence.js';
import { mountStage } from '/ui/stage.js';
import { mountAlerts } from '/ui/alerts.js';
import { mountChat, closeChat } from '/ui/chat.js';
import { mountLobby } from '/ui/lobby.js';
import { installConsentGate } from '/ui/consent.js';

/**
 * What every page gets.
 * @typedef {object} Context
 * @property {api.User|null} me The signed-in user, or null.
 * @property {api.Org|null} org The user's organisation, once signed in.
 * @property {string} setupToken The token of a setup or invitation link, if the app was opened with one.
 * @property {(path: string, replace?: boolean) => void} navigate Goes to a path of the app.
 * @property {() => Promise<void>} refresh Reloads the user and organisation and redraws the shell.
 * @property {(user: api.User) => Promise<void>} signedIn Called after a sign-in or setup.
 * @property {(message: string) => void} signedOut Called when the session is gone (e.g. the account
 *   was erased): leaves the office, goes to the sign-in page and shows the message.
 */

/**
 * @typedef {object} Route
 * @property {string} title
 * @property {() => Promise<{render: (ctx: Context) => Node|Promise<Node>}>} load
 * @property {'public'|'user'|'admin'} access
 */

/** @type {Record<string, Route>} */
const ROUTES = {
  '/login': { title: 'Sign in', load: () => import('/pages/login.js'), access: 'public' },
  '/setup': { title: 'Set up Bureau', load: () => import('/pages/setup.js'), access: 'public' },
  '/office': { title: 'Office', load: () => import('/pages/office.js'), access: 'user' },
  '/directory': { title: 'Directory', load: () => import('/pages/directory.js'), access: 'user' },
  '/profile': { title: 'My profile', load: () => import('/pages/profile.js'), access: 'user' },
  '/absences': { title: 'Absences', load: () => import('/pages/absences.js'), access: 'user' },
  '/attendance': { title: 'Attendance', load: () => import('/pages/attendance.js'), access: 'user' },
  '/admin': { title: 'Administration', load: () => import('/pages/admin.js'), access: 'admin' },
  '/register': { title: 'Join', load: () => import('/pages/register.js'), access: 'public' },
  '/invitations': { title: 'Invite colleagues', load: () => import('/pages/invitations.js'), access: 'user' },
  '/support': { title: 'Help & support', load: () => import('/pages/support.js'), access: 'user' },
  '/privacy': { title: 'Privacy policy', load: () => import('/pages/legal.js'), access: 'public' },
  '/terms': { title: 'Terms of use', load: () => import('/pages/legal.js'), access: 'public' },
  '/local-storage': { title: 'Local storage', load: () => import('/pages/legal.js'), access: 'public' },
  '/privacy-centre': { title: 'Privacy centre', load: () => import('/pages/privacy-centre.js'), access: 'user' },
  '/privacy-admin': { title: 'Privacy requests', load: () => import('/pages/privacy-admin.js'), access: 'user' },
  '/guest': { title: 'Join as a guest', load: () => import('/pages/guest.js'), access: 'public' },
  '/choose-password': { title: 'Choose your password', load: () => import('/pages/choose-password.js'), access: 'user' },
};

/** @type {Context} */
const ctx = {
  me: null,
  org: null,
  setupToken: '',
  navigate,
  refresh,
  signedIn,
  signedOut,
};

let renderSeq = 0;
let firstRender = true;

/**
 * Goes to a path of the app without reloading the page.
 * @param {string} path
 * @param {boolean} [replace]
 */
function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  void render();
}

/** Reloads the signed-in user and their organisation (or learns there is no session). */
async function loadSession() {
  try {
    ctx.me = await api.me();
  } catch (err) {
    // A guest's session gets 403 outside their room (docs/api.md): on /guest, as if signed out.
    if (err instanceof api.ApiError && (err.status === 401 || (err.status === 403 && location.pathname === '/guest'))) {
      ctx.me = null;
      ctx.org = null;
      return;
    }
    throw err;
  }
  // A guest (guest link) sees only their room: no organisation, no office (pages/guest.js).
  ctx.org = isGuest() ? null : await api.org();
}

/** @returns {boolean} Whether the session is a guest's. */
function isGuest() {
  return Boolean(ctx.me && ctx.me.role === 'guest');
}

async function refresh() {
  await loadSession();
  goLive();
  drawShell();
}

/** Starts the live office (signaling, calls, messages) once a user is signed in. */
function goLive() {
  if (!ctx.me || isGuest() || ctx.me.must_change_password) return;
  const running = runningOffice();
  if (running && running.me.id === ctx.me.id) {
    running.me = ctx.me;
    return;
  }
  const office = startOffice(ctx.me);
  installConsentGate(office.media, () => ctx.org);
  mountStage(office);
  mountAlerts(office);
  mountLobby(office);
  mountChat(office);
}

/** Ends the live office (sign-out, session ended). */
function goOffline() {
  stopOffice();
  closeChat();
  document.getElementById('lobby')?.remove();
  document.getElementById('stage')?.remove();
  document.getElementById('conn-banner')?.remove();
}

/** @param {api.User} user */
async function signedIn(user) {
  ctx.me = user;
  ctx.org = await api.org();
  goLive();
  navigate('/office', true);
}

/** @param {string} message */
function signedOut(message) {
  ctx.me = null;
  ctx.org = null;
  goOffline();
  navigate('/login', true);
  toast(message, 'success');
}

async function signOut() {
  try {
    await api.logout();
  } catch (err) {
    if (!(err instanceof api.ApiError && err.status === 401)) {
      toast(api.describeError(err), 'error');
      return;
    }
  }
  ctx.me = null;
  ctx.org = null;
  goOffline();
  navigate('/login', true);
  toast('You have been signed out.', 'success');
}

/** Draws the top bar for the current session and path. */
function drawShell() {
  const header = /** @type {HTMLElement} */ (document.getElementById('topbar'));
  header.replaceChildren();
  header.classList.remove('nav-open');
  const path = location.pathname;
  const brand = h('a', { class: 'brand', href: isGuest() ? '/guest' : ctx.me ? '/office' : '/login' },
    h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'B'),
    h('span', { class: 'brand-name' }, ctx.org ? ctx.org.name : 'Bureau'));
  header.append(brand);
  drawFooter();
  if (!ctx.me || isGuest()) return;
  const me = ctx.me;
  /** @param {string} href @param {string} label */
  const link = (href, label) => h('a', { href, class: 'nav-link', 'aria-current': path === href ? 'page' : undefined }, label);
  const nav = h('nav', { class: 'mainnav', id: 'mainnav', 'aria-label': 'Main' },
    link('/office', 'Office'),
    link('/directory', 'Directory'),
    link('/profile', 'My profile'),
    me.role === 'admin' ? link('/admin', 'Admin') : null);
  header.append(navToggle(header, nav), nav);
  const office = runningOffice();
  if (office) header.append(presenceControl(office));
  header.append(userMenu(me));
}

/**
 * The Menu button that shows and hides the main navigation on a narrow screen (CSS shows the
 * links themselves on a wide one and hides the button): Escape closes it, back on the button.
 * @param {HTMLElement} header
 * @param {HTMLElement} nav
 * @returns {HTMLElement}
 */
function navToggle(header, nav) {
  const button = h('button', { type: 'button', class: 'nav-toggle', 'aria-expanded': 'false', 'aria-controls': 'mainnav' },
    h('span', { class: 'nav-toggle-bars', 'aria-hidden': 'true' }), 'Menu');
  /** @param {boolean} open */
  const show = (open) => {
    header.classList.toggle('nav-open', open);
    button.setAttribute('aria-expanded', String(open));
  };
  button.addEventListener('click', () => {
    const open = !header.classList.contains('nav-open');
    show(open);
    if (open) /** @type {HTMLElement|null} */ (nav.querySelector('a'))?.focus();
  });
  nav.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && header.classList.contains('nav-open')) {
      show(false);
      button.focus();
    }
  });
  return button;
}

/** The footer: links to the legal pages (public) and to help. */
function drawFooter() {
  let footer = document.getElementById('footer');
  if (!footer) {
    footer = h('footer', { id: 'footer', class: 'site-footer' });
    document.getElementById('main')?.after(footer);
  }
  footer.replaceChildren(h('nav', { 'aria-label': 'Legal and help' },
    h('a', { href: '/privacy' }, 'Privacy policy'),
    h('a', { href: '/terms' }, 'Terms of use'),
    h('a', { href: '/local-storage' }, 'Local storage'),
    ctx.me && !isGuest() ? h('a', { href: '/support' }, 'Help & support') : null));
}

/**
 * The user menu: who is signed in, theme choice and sign out.
 * @param {api.User} me
 * @returns {HTMLElement}
 */
function userMenu(me) {
  const menuId = 'user-menu';
  const button = h('button', {
    type: 'button', class: 'user-button', 'aria-haspopup': 'true', 'aria-expanded': 'false', 'aria-controls': menuId,
  },
  avatarFor(me.id, me.name, 'sm', Boolean(me.has_picture)),
  h('span', { class: 'user-button-name' }, me.name),
  h('span', { class: 'sr-only' }, ' — account menu'));
  const theme = h('select', { id: 'theme-select', name: 'theme', onchange: () => saveTheme(theme.value) },
    [['system', 'System'], ['light', 'Light'], ['dark', 'Dark']].map(([v, l]) => h('option', { value: v, selected: savedTheme() === v }, l)));
  const menu = h('div', { id: menuId, class: 'menu', hidden: true },
    h('div', { class: 'menu-who' }, h('strong', {}, me.name), h('span', { class: 'muted' }, me.email)),
    h('div', { class: 'menu-row' }, h('label', { for: 'theme-select' }, 'Theme'), theme),
    h('a', { href: '/profile', class: 'menu-item' }, 'My profile'),
    // Absences and attendance times are extended-profile data: in entry mode the server refuses them.
    ctx.org && ctx.org.profile_mode === 'extended' ? h('a', { href: '/absences', class: 'menu-item' }, 'Absences') : null,
    ctx.org && ctx.org.profile_mode === 'extended' ? h('a', { href: '/attendance', class: 'menu-item' }, 'Attendance') : null,
    me.role !== 'admin' && (me.rights || []).includes('invite') ? h('a', { href: '/invitations', class: 'menu-item' }, 'Invite colleagues') : null,
    h('a', { href: '/privacy-centre', class: 'menu-item' }, 'Privacy centre'),
    me.role === 'admin' || (me.rights || []).includes('manage_privacy') ? h('a', { href: '/privacy-admin', class: 'menu-item' }, 'Privacy requests') : null,
    h('a', { href: '/support', class: 'menu-item' }, 'Help & support'),
    h('a', { href: '/local-storage', class: 'menu-item' }, 'Privacy & local storage'),
    h('button', { type: 'button', class: 'menu-item', 'data-action': 'sign-out', onclick: () => { setOpen(false); void signOut(); } }, 'Sign out'));
  /** @param {boolean} open */
  const setOpen = (open) => {
    menu.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
  };
  button.addEventListener('click', () => setOpen(menu.hidden));
  const wrapper = h('div', { class: 'user' }, button, menu);
  wrapper.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !menu.hidden) {
      setOpen(false);
      button.focus();
    }
  });
  wrapper.addEventListener('focusout', (event) => {
    const next = /** @type {Node|null} */ (event.relatedTarget);
    if (next && !wrapper.contains(next)) setOpen(false);
  });
  return wrapper;
}

/** Renders the page for the current path. */
async function render() {
  const seq = ++renderSeq;
  const main = /** @type {HTMLElement} */ (document.getElementById('main'));
  let path = location.pathname.replace(/\/+$/, '') || '/';
  if (path === '/') path = isGuest() ? '/guest' : ctx.me ? '/office' : '/login';
  let route = ROUTES[path];
  if (isGuest() && route && route.access !== 'public' || isGuest() && path === '/login') {
    history.replaceState(null, '', '/guest');
    path = '/guest';
    route = ROUTES[path];
  } else if (route && route.access !== 'public' && !ctx.me) {
    history.replaceState(null, '', '/login');
    path = '/login';
    route = ROUTES[path];
  } else if (ctx.me && ctx.me.must_change_password && route && route.access !== 'public' && path !== '/choose-password' || path === '/login' && ctx.me && ctx.me.must_change_password) {
    // An administrator chose the password: the server serves nothing else until it is changed.
    history.replaceState(null, '', '/choose-password');
    path = '/choose-password';
    route = ROUTES[path];
  } else if (path === '/login' && ctx.me) {
    history.replaceState(null, '', '/office');
    path = '/office';
    route = ROUTES[path];
  } else if (path !== location.pathname) {
    history.replaceState(null, '', path);
  }
  drawShell();
  document.body.dataset.page = route ? path.slice(1) : 'not-found';
  if (!route) {
    document.title = 'Not found · Bureau';
    main.replaceChildren(notFound());
    return;
  }
  if (route.access === 'admin' && ctx.me && ctx.me.role !== 'admin') {
    document.title = 'Not allowed · Bureau';
    main.replaceChildren(h('section', { class: 'page narrow' },
      h('h1', {}, 'Administrators only'),
      h('p', {}, 'This page is for administrators of your organisation.'),
      h('p', {}, h('a', { href: '/office' }, 'Back to the office'))));
    return;
  }
  document.title = `${route.title} · ${ctx.org ? ctx.org.name : 'Bureau'}`;
  main.setAttribute('aria-busy', 'true');
  try {
    const page = await route.load();
    const node = await page.render(ctx);
    if (seq !== renderSeq) return;
    main.replaceChildren(node);
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err instanceof api.ApiError && err.status === 401) {
      ctx.me = null;
      ctx.org = null;
      navigate('/login', true);
      return;
    }
    main.replaceChildren(h('section', { class: 'page narrow' },
      h('h1', {}, 'Something went wrong'),
      h('p', { role: 'alert' }, api.describeError(err)),
      h('button', { type: 'button', class: 'button', onclick: () => void render() }, 'Try again')));
  } finally {
    if (seq === renderSeq) main.removeAttribute('aria-busy');
  }
  const wanted = /** @type {HTMLElement|null} */ (main.querySelector('[data-autofocus]'));
  if (wanted) wanted.focus();
  else if (!firstRender && !main.contains(document.activeElement)) {
    const heading = main.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
  }
  firstRender = false;
}

/** @returns {HTMLElement} */
function notFound() {
  return h('section', { class: 'page narrow' },
    h('h1', {}, 'Page not found'),
    h('p', {}, 'There is nothing at this address.'),
    h('p', {}, h('a', { href: ctx.me ? '/office' : '/login' }, ctx.me ? 'Go to the office' : 'Go to sign in')));
}

/** Follows same-origin links inside the app without reloading. */
function interceptLinks() {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const target = /** @type {Element} */ (event.target);
    const openMenu = document.querySelector('.user .menu:not([hidden])');
    // A click outside the open user menu closes it, and so does following one of its links
    // (also the current page's, which does not redraw the top bar).
    if (openMenu && (!openMenu.parentElement?.contains(target) || (target.closest && openMenu.contains(target.closest('a'))))) {
      openMenu.setAttribute('hidden', '');
      openMenu.parentElement?.querySelector('.user-button')?.setAttribute('aria-expanded', 'false');
    }
    const anchor = target.closest ? target.closest('a') : null;
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, location.href);
    if (url.hash && url.pathname === location.pathname) return; // in-page anchors, e.g. the skip link
    if (url.origin !== location.origin || url.pathname.startsWith('/api/') || /\.[a-z0-9]+$/i.test(url.pathname)) return;
    event.preventDefault();
    if (url.pathname !== location.pathname) navigate(url.pathname + url.search);
    else window.scrollTo(0, 0);
  });
  window.addEventListener('popstate', () => void render());
  // A setup link pasted into a tab that already shows the app changes only the fragment.
  window.addEventListener('hashchange', () => {
    takeSetupToken();
    if (ctx.setupToken) void render();
  });
}

/** Reads a setup token from the URL fragment and removes it from the address bar at once. */
function takeSetupToken() {
  if (!location.hash) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (token) {
    ctx.setupToken = token;
    history.replaceState(null, '', location.pathname + location.search);
  }
}

/** A session that ends while the app is open (expired, signed out elsewhere, deactivated). */
function sessionEnded() {
  if (!ctx.me) return;
  ctx.me = null;
  ctx.org = null;
  goOffline();
  document.querySelectorAll('dialog[open]').forEach((d) => /** @type {HTMLDialogElement} */ (d).close());
  navigate('/login', true);
  toast('Your session has ended. Please sign in again.', 'info');
}

async function boot() {
  takeSetupToken();
  // Installable as an app (web/sw.js keeps nothing of the user's); browsers allow it over HTTPS.
  if ('serviceWorker' in navigator && window.isSecureContext) navigator.serviceWorker.register('/sw.js').catch(() => {});
  api.onSessionEnded(sessionEnded);
  applyTheme(savedTheme());
  interceptLinks();
  try {
    await loadSession();
  } catch (err) {
    ctx.me = null;
    toast(api.describeError(err), 'error');
  }
  goLive();
  await render();
}

void boot();
