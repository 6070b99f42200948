// app.js: what every deesc page shares. The API wrapper (api), the page
// header with the signed-in user (initPage), number formatting, the URL
// state of filters, tables built from data, and charts: the server draws
// every chart as SVG at /charts/NAME.svg and the page inlines that drawing,
// so the chart on screen and its downloadable twin are one picture.
//
// No framework, no build step, no inline script: pages load this as an ES
// module under Content-Security-Policy default-src 'self'.

const locale = 'en-CA';
const intFmt = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });

/** ApiError is a failed API answer: its status and the server's JSON {error, param?, id?}. */
export class ApiError extends Error {
  constructor(status, body, path) {
    const b = body && typeof body === 'object' ? body : {};
    let msg = b.error || `the server answered ${status}`;
    if (b.id) msg += ` (error id ${b.id})`;
    super(msg);
    this.status = status;
    this.param = b.param || '';
    this.id = b.id || '';
    this.path = path;
  }
}

// ---- busy state: tests and assistive tech can tell when a page settles ----

let pending = 0;
let renders = 0;

/** busy marks work started (+1) or done (-1); body[data-busy] and aria-busy follow it. */
export function busy(delta) {
  pending = Math.max(0, pending + delta);
  document.body.dataset.busy = String(pending > 0);
  const main = document.getElementById('main');
  if (main) main.setAttribute('aria-busy', String(pending > 0));
}

/** rendered counts a completed render in body[data-renders]. */
export function rendered() {
  renders += 1;
  document.body.dataset.renders = String(renders);
}

// ---- API ----

/** loginURL returns /login with next = the current page. */
export function loginURL() {
  return '/login?next=' + encodeURIComponent(location.pathname + location.search);
}

/**
 * api fetches path as JSON and returns the decoded body. It sends the user
 * to the sign-in page on 401 and throws an ApiError for any other failure.
 */
export async function api(path, init = {}) {
  busy(+1);
  try {
    let res;
    try {
      res = await fetch(path, {
        credentials: 'same-origin',
        ...init,
        headers: { Accept: 'application/json', ...(init.headers || {}) },
      });
    } catch (e) {
      throw new ApiError(0, { error: 'the server could not be reached (' + e.message + ')' }, path);
    }
    let body = null;
    const text = await res.text();
    if (text) {
      try { body = JSON.parse(text); } catch { body = null; }
    }
    if (res.status === 401 && !location.pathname.startsWith('/login')) {
      location.assign(loginURL());
      throw new ApiError(401, body || { error: 'sign-in needed' }, path);
    }
    if (!res.ok) throw new ApiError(res.status, body, path);
    return body;
  } finally {
    busy(-1);
  }
}

// ---- DOM helpers ----

/** h builds an element: attrs are set as attributes (on* are refused), children appended as nodes or text. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) throw new Error('h: event handlers are attached with addEventListener');
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** $ returns the element with id, or throws naming it. */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error('no element #' + id);
  return el;
}

/** clear empties el and returns it. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

/** loading puts a loading message in el. */
export function loading(el, what = 'Loading…') {
  clear(el).append(h('p', { class: 'loading', role: 'status' }, what));
}

/** empty puts the empty-selection message in el. */
export function empty(el, what = 'No data for this selection.') {
  clear(el).append(h('p', { class: 'empty' }, what));
}

/** errorBox returns a visible role=alert message naming the problem (and the parameter). */
export function errorBox(err, context) {
  const box = h('div', { class: 'alert', role: 'alert' });
  if (context) box.append(context + ': ');
  if (err instanceof ApiError && err.param) {
    box.append('parameter ', h('span', { class: 'param' }, err.param), ' — ');
  }
  box.append(err && err.message ? err.message : String(err));
  return box;
}

/** showError replaces el's content with errorBox(err). */
export function showError(el, err, context) {
  clear(el).append(errorBox(err, context));
}

// ---- formatting ----

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);

/** fmtInt formats a count with thousands separators: 12,345. */
export function fmtInt(n) {
  return isNum(n) ? intFmt.format(n) : '—';
}

/** fmtNum formats x with exactly d decimals (en-CA). */
export function fmtNum(x, d = 1) {
  return isNum(x) ? new Intl.NumberFormat(locale, { minimumFractionDigits: d, maximumFractionDigits: d }).format(x) : '—';
}

/**
 * fmtRate formats a rate: 1 decimal from 1 up, 2 significant digits below
 * (0.17, 0.012) so that small rates per officer-year keep their meaning.
 */
export function fmtRate(x) {
  if (!isNum(x)) return '—';
  if (x === 0) return '0';
  if (Math.abs(x) >= 1) return fmtNum(x, 1);
  const d = Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(Math.abs(x)))));
  return fmtNum(x, d);
}

/** fmtPct formats a percentage given as 0–100: 94.2%. */
export function fmtPct(p) {
  return isNum(p) ? fmtNum(p, 1) + '%' : '—';
}

/** fmtShare formats a share given as 0–1 as a percentage: 0.818 → 81.8%. */
export function fmtShare(s) {
  return isNum(s) ? fmtPct(100 * s) : '—';
}

/** fmtCI formats an estimate and its interval: 0.71 (95% CI 0.60–0.85). */
export function fmtCI(est, lo, hi, f = (x) => fmtNum(x, 2)) {
  if (!isNum(est)) return '—';
  if (!isNum(lo) || !isNum(hi)) return f(est);
  return `${f(est)} (95% CI ${f(lo)}–${f(hi)})`;
}

/** fmtRateCI formats a rate per officer-year with its CI, the unit spelled out. */
export function fmtRateCI(r) {
  if (!r || !isNum(r.rate)) return '—';
  return fmtCI(r.rate, r.ci_low, r.ci_high, fmtRate) + ' per officer-year';
}

/** fmtChange formats a relative change (−0.36 → −36.3%) with a sign. */
export function fmtChange(x) {
  if (!isNum(x)) return '—';
  const s = fmtNum(100 * x, 1) + '%';
  return x > 0 ? '+' + s : s.replace('-', '−');
}

// ---- URL state ----

/** readState returns the query-string values of keys, defaulting to defs. */
export function readState(defs) {
  const q = new URLSearchParams(location.search);
  const st = {};
  for (const [k, v] of Object.entries(defs)) st[k] = q.has(k) ? q.get(k) : v;
  return st;
}

/** writeState replaces the URL's query with the non-empty values of st (no new history entry). */
export function writeState(st) {
  const url = location.pathname + (query(st) ? '?' + query(st) : '') + location.hash;
  history.replaceState(null, '', url);
}

/** query returns the URL-encoded non-empty values of params. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== '' && v !== null && v !== undefined) q.set(k, String(v));
  }
  return q.toString();
}

/** pick returns the entries of obj named in keys. */
export function pick(obj, keys) {
  const out = {};
  for (const k of keys) out[k] = obj[k];
  return out;
}

// ---- tables ----

/**
 * table builds an accessible table: caption, column headers (th scope=col),
 * the first cell of each row a row header (th scope=row). A column spec is
 * {label, num?}; a cell is text, a number already formatted, or a Node.
 */
export function table(caption, cols, rows, attrs = {}) {
  const head = h('tr', null, cols.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)));
  const body = rows.map((r) => h('tr', null, r.map((cell, i) => {
    const cls = cols[i] && cols[i].num ? 'num' : null;
    return i === 0 ? h('th', { scope: 'row', class: cls }, cell) : h('td', { class: cls }, cell);
  })));
  return h('div', { class: 'table-wrap' },
    h('table', attrs, h('caption', null, caption), h('thead', null, head), h('tbody', null, body)));
}

// ---- charts ----

/**
 * chart renders the server's drawing /charts/NAME.svg?PARAMS&width=W into
 * el (a <figure>), with PNG and SVG download links under it. It returns a
 * promise that settles when the drawing is in place or a message says why
 * it is not.
 */
export async function chart(el, name, params, label) {
  const holder = h('div', { class: 'chart-svg' }, h('p', { class: 'loading', role: 'status' }, 'Loading chart…'));
  const width = Math.max(320, Math.min(1400, Math.round(el.clientWidth || el.parentElement?.clientWidth || 640)));
  const q = query({ ...params, width });
  const links = h('figcaption', null,
    h('span', null, 'Download ' + (label || 'chart') + ':'),
    h('a', { href: `/charts/${name}.png?${q}`, download: `${name}.png` }, 'PNG'),
    h('a', { href: `/charts/${name}.svg?${q}`, download: `${name}.svg` }, 'SVG'));
  clear(el).append(holder, links);
  busy(+1);
  try {
    const res = await fetch(`/charts/${name}.svg?${q}`, { credentials: 'same-origin', headers: { Accept: 'image/svg+xml' } });
    const text = await res.text();
    if (!res.ok) {
      let body = null;
      try { body = JSON.parse(text); } catch { body = null; }
      throw new ApiError(res.status, body, name);
    }
    // The drawing is produced by deesc itself; parsing it as XML (not HTML)
    // never runs a script, and importNode brings it into the page.
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const svg = doc.documentElement;
    if (!svg || svg.nodeName !== 'svg') throw new Error('the chart is not an SVG drawing');
    const node = document.importNode(svg, true);
    if (!node.getAttribute('role')) node.setAttribute('role', 'img');
    clear(holder).append(node);
  } catch (e) {
    clear(holder).append(h('p', { class: 'note' }, 'Chart unavailable: ' + (e.message || e) + '. The figures are in the table.'));
  } finally {
    busy(-1);
  }
}

/** twin returns a <details> holding a chart's figures as a table. */
export function twin(summary, tableEl) {
  return h('details', null, h('summary', null, summary), tableEl);
}

// ---- header, session, navigation ----

const pagesByRole = {
  leadership: ['/'],
  evaluator: ['/', '/evaluate'],
  auditor: ['/', '/audit'],
  admin: ['/', '/evaluate', '/audit'],
};

/**
 * initPage fills the header: who is signed in and as what, the demo-mode
 * banner, the navigation links the role may use, and a sign-out button when
 * authentication is on. It returns the session ({user, role, auth, demo}),
 * or null when the server does not say.
 */
export async function initPage() {
  document.body.dataset.busy = 'false';
  document.body.dataset.renders = '0';
  const here = location.pathname;
  for (const a of document.querySelectorAll('.site nav a')) {
    if (a.getAttribute('href') === here) a.setAttribute('aria-current', 'page');
  }
  let session = null;
  try {
    session = await api('/api/session');
  } catch (e) {
    if (e.status === 401) return null;
    const who = document.querySelector('.site .who');
    if (who) clear(who).append(h('span', null, 'Signed-in user unknown'));
    return null;
  }
  const who = document.querySelector('.site .who');
  if (who) {
    clear(who);
    if (session.user) who.append(h('span', null, 'Signed in as ', h('strong', null, session.user), ' (' + (session.role || 'no role') + ')'));
    if (session.auth) {
      const out = h('button', { type: 'button', class: 'secondary' }, 'Sign out');
      out.addEventListener('click', async () => {
        try { await api('/api/session', { method: 'DELETE' }); } catch { /* signed out either way */ }
        location.assign('/login');
      });
      who.append(out);
    }
  }
  if (session.demo) {
    const banner = h('div', { class: 'banner', role: 'note' }, 'Demo mode: authentication is off, every visitor acts as admin');
    document.querySelector('.site')?.after(banner);
  }
  const allowed = pagesByRole[session.role] || (session.auth ? ['/'] : pagesByRole.admin);
  for (const li of document.querySelectorAll('.site nav li')) {
    const a = li.querySelector('a');
    li.hidden = !allowed.includes(a.getAttribute('href'));
  }
  return session;
}

/** monthEnd returns the last day (YYYY-MM-DD) of month YYYY-MM, or '' when m is not one. */
export function monthEnd(m) {
  const r = /^(\d{4})-(\d{2})$/.exec(m || '');
  if (!r) return '';
  const d = new Date(Date.UTC(Number(r[1]), Number(r[2]), 0));
  return d.toISOString().slice(0, 10);
}

/** fillSelect replaces sel's options with an "all" option (when given) and values ({value,label} or strings). */
export function fillSelect(sel, values, allLabel, current) {
  clear(sel);
  if (allLabel !== undefined) sel.append(h('option', { value: '' }, allLabel));
  for (const v of values) {
    const o = typeof v === 'string' ? { value: v, label: v } : v;
    sel.append(h('option', { value: o.value }, o.label));
  }
  if (current !== undefined) {
    if (current && ![...sel.options].some((o) => o.value === current)) {
      // Keep a value from the URL the lists do not know: the API will say what is wrong with it.
      sel.append(h('option', { value: current }, current));
    }
    sel.value = current;
  }
}
