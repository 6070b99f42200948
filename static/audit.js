// audit.js: the Auditor page (/audit). It lists the declared queries of
// GET /api/queries, builds a typed form for the chosen one (dates, months,
// bounded numbers, enumerations), previews GET /api/queries/{name}?…&limit=100
// and links the exports /api/queries/{name}/export?format=… and their
// manifests. The query and its parameters are kept in the URL.

import { $, h, api, clear, empty, errorBox, fillSelect, fmtInt, initPage, loading, query, rendered, table } from './app.js';

let catalogue = [];
let generation = 0;

/** current returns the chosen query's declaration, or undefined. */
function current() {
  return catalogue.find((q) => q.name === $('query').value);
}

/** inputFor builds the labelled control for one declared parameter. */
function inputFor(p, value) {
  const id = 'p-' + p.name;
  const type = String(p.type || 'string').toLowerCase();
  const describedBy = p.description ? id + '-hint' : null;
  let control;
  if ((Array.isArray(p.values) && p.values.length) || type === 'bool' || type === 'boolean') {
    const values = Array.isArray(p.values) && p.values.length ? p.values.map(String) : ['true', 'false'];
    control = h('select', { id, name: p.name, 'aria-describedby': describedBy });
    fillSelect(control, values, p.required ? undefined : '(any)', value ?? '');
  } else {
    const attrs = { id, name: p.name, 'aria-describedby': describedBy };
    if (type === 'date') Object.assign(attrs, { type: 'date', pattern: '\\d{4}-\\d{2}-\\d{2}', placeholder: 'YYYY-MM-DD' });
    else if (type === 'month') Object.assign(attrs, { type: 'month', pattern: '\\d{4}-\\d{2}', placeholder: 'YYYY-MM' });
    else if (['int', 'integer'].includes(type)) Object.assign(attrs, { type: 'number', step: '1', inputmode: 'numeric' });
    else if (['number', 'float', 'decimal'].includes(type)) Object.assign(attrs, { type: 'number', step: 'any', inputmode: 'decimal' });
    else attrs.type = 'text';
    if (p.min !== undefined && p.min !== null) attrs.min = p.min;
    if (p.max !== undefined && p.max !== null) attrs.max = p.max;
    if (p.required) attrs.required = true;
    control = h('input', attrs);
    control.value = value ?? '';
  }
  const hint = p.description ? h('span', { class: 'hint', id: id + '-hint' }, p.description) : null;
  return h('div', { class: 'field' }, h('label', { for: id }, p.title || p.name), control, hint);
}

/** params returns the form's non-empty parameter values. */
function params() {
  const out = {};
  for (const p of current()?.params || []) {
    const el = document.getElementById('p-' + p.name);
    if (el && el.value !== '') out[p.name] = el.value;
  }
  return out;
}

function saveURL() {
  const q = current();
  const search = q ? query({ q: q.name, ...params() }) : '';
  history.replaceState(null, '', location.pathname + (search ? '?' + search : ''));
}

function renderForm(fromURL) {
  const q = current();
  const box = clear($('params'));
  clear($('preview')).append(h('p', { class: 'empty' }, 'Choose the parameters, then Preview.'));
  if (!q) {
    $('query-desc').textContent = '';
    clear($('query-meta'));
    clear($('exports')).append(h('p', { class: 'empty' }, 'Choose a query.'));
    return;
  }
  const url = new URLSearchParams(location.search);
  for (const p of q.params || []) {
    const v = fromURL && url.has(p.name) ? url.get(p.name) : (p.default ?? '');
    box.append(inputFor(p, v === null ? '' : String(v)));
  }
  $('query-desc').textContent = q.description || '';
  const meta = clear($('query-meta'));
  if (q.columns?.length) meta.append(h('p', null, 'Columns: ' + q.columns.map((c) => (typeof c === 'string' ? c : c.name)).join(', ') + '.'));
  if (q.roles?.length) meta.append(h('p', null, 'Available to: ' + q.roles.join(', ') + '.'));
  renderExports();
}

function renderExports() {
  const q = current();
  if (!q) return;
  const ps = query(params());
  const base = `/api/queries/${encodeURIComponent(q.name)}/export`;
  const list = h('ul', { id: 'export-links' });
  for (const f of ['csv', 'json', 'parquet']) {
    const qs = query({ format: f }) + (ps ? '&' + ps : '');
    list.append(h('li', null,
      h('a', { href: `${base}?${qs}`, download: '', 'data-format': f }, `Download ${f.toUpperCase()}`), ' · ',
      h('a', { href: `${base}/manifest?${qs}`, 'data-manifest': f }, `manifest (${f.toUpperCase()})`)));
  }
  clear($('exports')).append(list);
}

function cellText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? fmtInt(v) : String(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

async function preview() {
  const q = current();
  if (!q) return;
  const gen = ++generation;
  saveURL();
  renderExports();
  const el = $('preview');
  loading(el, 'Running the query…');
  try {
    const res = await api(`/api/queries/${encodeURIComponent(q.name)}?` + query({ ...params(), limit: 100 }));
    if (gen !== generation) return;
    const cols = res.columns || [];
    const rows = res.rows || [];
    const notes = [`Dataset version ${res.dataset_version ?? '—'}.`];
    if (res.truncated) notes.push(`Showing the first ${fmtInt(rows.length)} rows; the export has them all.`);
    if (res.suppressed) notes.push(`${fmtInt(res.suppressed)} small counts suppressed for privacy.`);
    clear(el).append(h('p', { class: 'note', id: 'preview-notes' }, notes.join(' ')));
    if (!rows.length) {
      el.append(h('p', { class: 'empty' }, 'No data for this selection.'));
    } else {
      el.append(table(`${q.title || q.name}: ${fmtInt(rows.length)} rows`,
        cols.map((c) => ({ label: typeof c === 'string' ? c : c.name })),
        rows.map((r) => r.map(cellText)), { id: 'preview-table' }));
    }
  } catch (e) {
    if (gen === generation) clear(el).append(errorBox(e, 'Preview failed'));
  }
  if (gen === generation) rendered();
}

async function main() {
  const form = $('query-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    preview();
  });
  $('query').addEventListener('change', () => {
    renderForm(false);
    saveURL();
  });
  $('params').addEventListener('change', () => {
    saveURL();
    renderExports();
  });
  const [, cat] = await Promise.allSettled([initPage(), api('/api/queries')]);
  if (cat.status === 'rejected') {
    $('catalogue-error').append(errorBox(cat.reason, 'The query catalogue could not be loaded'));
    fillSelect($('query'), [], '(none)');
    rendered();
    return;
  }
  catalogue = Array.isArray(cat.value) ? cat.value : (cat.value?.queries || []);
  if (!catalogue.length) {
    empty($('preview'), 'No queries are declared.');
    fillSelect($('query'), [], '(none)');
    rendered();
    return;
  }
  const want = new URLSearchParams(location.search).get('q') || '';
  fillSelect($('query'), catalogue.map((q) => ({ value: q.name, label: q.title || q.name })), 'Choose a query…', want);
  renderForm(true);
  if (want && current()) await preview();
  else rendered();
}

main();
