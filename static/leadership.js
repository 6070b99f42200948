// leadership.js: the Leadership page (/). Filters live in the URL so a view
// can be bookmarked; every change refetches the figures and redraws the
// charts. Sources: /api/compliance, /api/outcomes, /api/force/matrix, and the
// lists of /api/dataset, and the charts /charts/{compliance-divisions,compliance-trend,outcome-trend,
// force-matrix,hours-balance}.svg.

import {
  $, h, api, chart, clear, empty, errorBox, fillSelect, fmtCI, fmtInt, fmtNum, fmtPct, fmtRate,
  fmtShare, initPage, loading, monthEnd, pick, query, readState, rendered, showError, table, twin, writeState,
  ApiError,
} from './app.js';

const defaults = { from: '', to: '', division: '', unit: '', course: '', outcome: 'force' };
const outcomeNames = {
  force: 'Use of force', complaints: 'Complaints', 'sustained-complaints': 'Sustained complaints',
  injuries: 'Officer injuries', 'subject-injuries': 'Subject injuries',
};

let state = readState(defaults);
let units = []; // [{division, unit}]
let generation = 0;

/** asOf is the compliance date: the end of the "to" month, not after today; '' = the server's today. */
function asOf() {
  const end = monthEnd(state.to);
  if (!end) return '';
  const today = new Date().toISOString().slice(0, 10);
  return end < today ? end : today;
}

function filterParams() {
  return pick(state, ['from', 'to', 'division', 'unit']);
}

/** complianceParams asks for divisions only for the whole service (it may have thousands of units), units within a division or for one unit. */
function complianceParams() {
  const level = state.division || state.unit ? 'unit' : 'division';
  return { as_of: asOf(), course: state.course, division: state.division, unit: state.unit, level };
}

// ---- filters ----

function syncForm() {
  $('from').value = /^\d{4}-\d{2}$/.test(state.from) ? state.from : '';
  $('to').value = /^\d{4}-\d{2}$/.test(state.to) ? state.to : '';
  const divisions = [...new Set(units.map((u) => u.division))].sort();
  fillSelect($('division'), divisions, 'All divisions', state.division);
  const inDiv = units.filter((u) => !state.division || u.division === state.division).map((u) => u.unit);
  fillSelect($('unit'), inDiv, 'All units', state.unit);
  if ([...$('outcome').options].some((o) => o.value === state.outcome)) $('outcome').value = state.outcome;
  const parts = [];
  if (state.from || state.to) parts.push(`months ${state.from || 'first'} to ${state.to || 'last'}`);
  if (state.division) parts.push('division ' + state.division);
  if (state.unit) parts.push('unit ' + state.unit);
  if (state.course) parts.push('course ' + state.course);
  $('selection').textContent = 'Showing ' + (parts.length ? parts.join(', ') : 'the whole service, every month') + '.';
}

function setFilter(changes) {
  state = { ...state, ...changes };
  writeState(state);
  syncForm();
  render();
}

function wireFilters() {
  const form = $('filters');
  form.addEventListener('submit', (e) => e.preventDefault());
  for (const id of ['from', 'to', 'course', 'outcome']) {
    $(id).addEventListener('change', () => setFilter({ [id]: $(id).value }));
  }
  $('division').addEventListener('change', () => setFilter({ division: $('division').value, unit: '' }));
  $('unit').addEventListener('change', () => setFilter({ unit: $('unit').value }));
  $('reset').addEventListener('click', () => setFilter({ ...defaults }));
}

// ---- sections ----

/** sumStatus adds the status counts of rows (officer-course pairs). */
function sumStatus(rows) {
  const t = { officers: 0, current: 0, due_30: 0, due_60: 0, due_90: 0, overdue: 0 };
  for (const r of rows) for (const k of Object.keys(t)) t[k] += r[k] || 0;
  t.current_pct = t.officers ? (100 * t.current) / t.officers : null;
  return t;
}

/** complianceRows groups the courses' status by division, or by unit within the selected division. */
function complianceRows(c) {
  const groups = new Map();
  for (const course of c.courses || []) {
    for (const d of course.divisions || []) {
      if (state.division && d.division !== state.division) continue;
      const parts = state.division ? (d.units || []).filter((u) => !state.unit || u.unit === state.unit) : [d];
      for (const p of parts) {
        const key = state.division ? p.unit : d.division;
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(p);
      }
    }
  }
  return [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([name, rows]) => ({ name, ...sumStatus(rows) }));
}

function renderCrumbs() {
  const crumbs = clear($('crumbs'));
  const all = h('button', { type: 'button', class: 'link' }, 'All divisions');
  all.addEventListener('click', () => setFilter({ division: '', unit: '' }));
  crumbs.append(state.division ? all : 'All divisions');
  if (state.division) {
    const div = h('button', { type: 'button', class: 'link' }, state.division);
    div.addEventListener('click', () => setFilter({ unit: '' }));
    crumbs.append(' › ', state.unit ? div : state.division);
  }
  if (state.unit) crumbs.append(' › ', state.unit);
}

function renderCompliance(c) {
  renderCrumbs();
  const rows = complianceRows(c);
  const el = $('compliance-table');
  if (!rows.length) return empty(el);
  const level = state.division ? 'Unit' : 'Division';
  const body = rows.map((r) => {
    let name = r.name;
    if (!state.unit) {
      name = h('button', { type: 'button', class: 'link', 'data-drill': r.name }, r.name);
      name.addEventListener('click', () => setFilter(state.division ? { unit: r.name } : { division: r.name, unit: '' }));
    }
    return [name, fmtInt(r.officers), fmtInt(r.current), fmtInt(r.due_30), fmtInt(r.due_60), fmtInt(r.due_90), fmtInt(r.overdue), fmtPct(r.current_pct)];
  });
  const caption = `Officer-course pairs by ${level.toLowerCase()} as of ${c.as_of}` + (state.unit ? '' : ` (choose a ${level.toLowerCase()} to see ${state.division ? 'it alone' : 'its units'})`);
  clear(el).append(table(caption, [
    { label: level }, { label: 'Officers', num: true }, { label: 'Current', num: true }, { label: 'Due ≤30 days', num: true },
    { label: 'Due 31–60', num: true }, { label: 'Due 61–90', num: true }, { label: 'Overdue', num: true }, { label: 'Current %', num: true },
  ], body, { id: 'compliance-by-group' }));
  chart($('chart-compliance-divisions'), 'compliance-divisions', complianceParams(), 'compliance by ' + level.toLowerCase());
}

/** pointNear returns the trend point closest to date (YYYY-MM-DD). */
function pointNear(trend, date) {
  const t = Date.parse(date);
  let best = null;
  for (const p of trend) {
    if (!best || Math.abs(Date.parse(p.on_date) - t) < Math.abs(Date.parse(best.on_date) - t)) best = p;
  }
  return best;
}

function renderComplianceTile(c) {
  const o = c.overall || {};
  if (!o.officers) {
    $('tile-compliance-value').textContent = '—';
    $('tile-compliance-detail').textContent = 'No data for this selection.';
    return;
  }
  $('tile-compliance-value').textContent = fmtPct(o.current_pct);
  let detail = `${fmtInt(o.current)} of ${fmtInt(o.officers)} officer-course pairs, as of ${c.as_of}.`;
  const trend = c.trend || [];
  if (trend.length > 1) {
    const d = new Date(c.as_of + 'T00:00:00Z');
    d.setUTCFullYear(d.getUTCFullYear() - 1);
    const then = pointNear(trend, d.toISOString().slice(0, 10));
    const now = trend[trend.length - 1];
    if (then && then !== now && typeof then.current_pct === 'number') {
      const diff = now.current_pct - then.current_pct;
      detail += ` ${diff >= 0 ? 'Up' : 'Down'} ${fmtNum(Math.abs(diff), 1)} percentage points from ${fmtPct(then.current_pct)} on ${then.on_date}.`;
    }
  }
  $('tile-compliance-detail').textContent = detail;
}

function renderTrend(c) {
  const el = $('trend-table');
  const trend = c.trend || [];
  if (!trend.length) return empty(el);
  clear(el).append(twin('Figures of the compliance trend', table('Share of officer-course pairs current, month by month',
    [{ label: 'On' }, { label: 'Officers', num: true }, { label: 'Current', num: true }, { label: 'Current %', num: true }],
    trend.map((p) => [p.on_date, fmtInt(p.officers), fmtInt(p.current), fmtPct(p.current_pct)]))));
  chart($('chart-compliance-trend'), 'compliance-trend', { ...complianceParams(), months: 24 }, 'compliance trend');
}

function renderOverdue(c) {
  const el = $('overdue-table');
  const list = c.overdue || [];
  if (!list.length) return empty(el, 'No officer is overdue in this selection.');
  clear(el).append(table(`Showing ${fmtInt(list.length)} of ${fmtInt(c.overdue_total)} overdue officer-course pairs, most overdue first`,
    [{ label: 'Officer' }, { label: 'Division' }, { label: 'Unit' }, { label: 'Course' }, { label: 'Last completed' }, { label: 'Expired on' }, { label: 'Days overdue', num: true }],
    list.map((o) => [o.officer_id, o.division, o.unit, o.title || o.course_id, o.last_completed || 'never', o.expires_on, fmtInt(o.days_overdue)]),
    { id: 'overdue' }));
}

function renderHours(c) {
  const el = $('hours-table');
  const rows = (c.hours_balance || []).filter((r) => (!state.division || r.division === state.division) && (!state.unit || r.unit === state.unit));
  if (!rows.length) return empty(el);
  // By division at the top, by unit within a division (complianceParams).
  const byUnit = c.level !== 'division';
  const names = byUnit ? [{ label: 'Unit' }, { label: 'Division' }] : [{ label: 'Division' }];
  clear(el).append(
    h('p', { class: 'note' }, c.hours_balance_note || ''),
    twin('Figures of the hours balance', table(`Training hours per officer-year in the twelve months to ${c.as_of}, by ${byUnit ? 'unit' : 'division'}`,
      [...names, { label: 'Officer-years', num: true }, { label: 'De-escalation hours per officer-year', num: true },
        { label: 'Use-of-force hours per officer-year', num: true }, { label: 'De-escalation share', num: true }],
      rows.map((r) => [...(byUnit ? [r.unit, r.division] : [r.division]), fmtNum(r.officer_years, 1), fmtNum(r.deescalation_hours_per_officer_year, 1),
        fmtNum(r.use_of_force_hours_per_officer_year, 1), fmtShare(r.deescalation_share)]))));
  const { as_of: day, division, unit, level } = complianceParams();
  chart($('chart-hours-balance'), 'hours-balance', { as_of: day, division, unit, level }, 'hours balance');
}

function rateTile(id, res) {
  const t = res.total;
  if (!t || !t.officer_years) {
    $(id + '-value').textContent = '—';
    $(id + '-detail').textContent = 'No data for this selection.';
    return;
  }
  $(id + '-value').textContent = fmtRate(t.rate);
  $(id + '-detail').textContent = `per officer-year (95% CI ${fmtRate(t.ci_low)}–${fmtRate(t.ci_high)}): ${fmtInt(t.events)} in ${fmtNum(t.officer_years, 1)} officer-years, ${res.from} to ${res.to}.`;
}

function renderForceTiles(force) {
  const t = force.total || {};
  if (!t.force_incidents) {
    $('tile-reviewed-value').textContent = '—';
    $('tile-reviewed-detail').textContent = 'No force incidents in this selection.';
  } else {
    $('tile-reviewed-value').textContent = fmtShare(t.reviewed_share);
    $('tile-reviewed-detail').textContent = `${fmtInt(t.reviewed)} of ${fmtInt(t.force_incidents)} officer involvements in force incidents reviewed.`;
  }
  $('tile-commend-value').textContent = fmtInt(t.deescalation_commendations);
  $('tile-commend-detail').textContent = `of ${fmtInt(t.commendations)} commendations (${fmtRate(t.commendations_per_officer_year)} per officer-year).`;
}

function renderRates(res) {
  const el = $('rates-table');
  const groups = res.groups || [];
  if (!groups.length) return empty(el);
  clear(el).append(twin(`Figures: ${outcomeNames[res.outcome] || res.outcome} per officer-year by month`, table(
    `${outcomeNames[res.outcome] || res.outcome} per officer-year, ${res.from} to ${res.to}, with exact 95% intervals`,
    [{ label: 'Month' }, { label: 'Events', num: true }, { label: 'Officer-years', num: true }, { label: 'Rate per officer-year (95% CI)', num: true }, { label: 'Note' }],
    groups.map((g) => [g.group, fmtInt(g.events), fmtNum(g.officer_years, 1), fmtCI(g.rate, g.ci_low, g.ci_high, fmtRate), g.unstable ? 'fewer than 20 events: unstable' : '']))));
  chart($('chart-outcome-trend'), 'outcome-trend', { outcome: state.outcome, ...filterParams() }, 'monthly rates');
}

function renderMatrix(m) {
  const el = $('matrix-table');
  const rows = (m.rows || []).filter((r) => r.total > 0);
  if (!rows.length || !m.incidents) return empty(el, 'No force incidents in this selection.');
  const responses = (m.responses || []).filter((resp) => rows.some((r) => (r.counts || {})[resp] > 0));
  const cell = (r, resp) => {
    const n = (r.counts || {})[resp];
    if (n === null || n === undefined) return 'suppressed';
    const s = (r.shares || {})[resp];
    return typeof s === 'number' && n > 0 ? `${fmtInt(n)} (${fmtShare(s)})` : fmtInt(n);
  };
  clear(el).append(table(`${fmtInt(m.incidents)} incidents, ${m.from} to ${m.to}: count (share of the row) by highest officer response`,
    [{ label: 'Subject behaviour' }, ...responses.map((r) => ({ label: r, num: true })), { label: 'Total', num: true }],
    rows.map((r) => [r.subject_behaviour, ...responses.map((resp) => cell(r, resp)), fmtInt(r.total)]),
    { id: 'matrix' }));
  chart($('chart-force-matrix'), 'force-matrix', filterParams(), 'IMIM matrix');
}

// ---- orchestration ----

/** loadOutline lists the divisions, units and recertified courses from /api/dataset. */
async function loadOutline() {
  const o = await api('/api/dataset');
  units = [];
  for (const d of o.divisions || []) for (const u of d.units || []) units.push({ division: d.division, unit: u });
  const recert = (o.courses || []).filter((c) => c.recert_days);
  fillSelect($('course'), recert.map((x) => ({ value: x.course_id, label: `${x.title} (${x.course_id})` })), 'All recertified courses', state.course);
  for (const id of ['from', 'to']) {
    if (o.first_month) $(id).min = o.first_month;
    if (o.last_month) $(id).max = o.last_month;
  }
}

async function render() {
  const gen = ++generation;
  const sections = ['compliance-table', 'trend-table', 'overdue-table', 'rates-table', 'matrix-table', 'hours-table'];
  for (const id of sections) loading($(id));
  clear($('filter-error'));
  const f = filterParams();
  const jobs = {
    compliance: api('/api/compliance?' + query({ ...complianceParams(), months: 24, overdue_limit: 25 })),
    force: api('/api/outcomes?' + query({ outcome: 'force', group_by: 'year', ...f })),
    complaints: api('/api/outcomes?' + query({ outcome: 'complaints', group_by: 'year', ...f })),
    injuries: api('/api/outcomes?' + query({ outcome: 'injuries', group_by: 'year', ...f })),
    monthly: api('/api/outcomes?' + query({ outcome: state.outcome, group_by: 'month', ...f })),
    matrix: api('/api/force/matrix?' + query(f)),
  };
  const names = Object.keys(jobs);
  const settled = await Promise.allSettled(Object.values(jobs));
  if (gen !== generation) return; // a newer filter change owns the page
  const res = {};
  const errs = {};
  names.forEach((n, i) => {
    if (settled[i].status === 'fulfilled') res[n] = settled[i].value;
    else errs[n] = settled[i].reason;
  });
  // A bad filter fails every request the same way: say it once, at the top.
  const bad = Object.values(errs).find((e) => e instanceof ApiError && e.status === 400);
  if (bad) $('filter-error').append(errorBox(bad, 'The filters could not be applied'));
  const failed = (el, e, what) => (bad ? empty(el, 'Not shown: see the message above.') : showError(el, e, what));
  const tiles = { force: 'tile-force', complaints: 'tile-complaints', injuries: 'tile-injuries' };
  for (const [k, id] of Object.entries(tiles)) {
    if (res[k]) rateTile(id, res[k]);
    else {
      $(id + '-value').textContent = '—';
      $(id + '-detail').textContent = 'Not available: ' + errs[k].message;
    }
  }
  if (res.force) renderForceTiles(res.force);
  if (res.compliance) {
    renderComplianceTile(res.compliance);
    renderCompliance(res.compliance);
    renderTrend(res.compliance);
    renderOverdue(res.compliance);
    renderHours(res.compliance);
  } else {
    $('tile-compliance-value').textContent = '—';
    $('tile-compliance-detail').textContent = 'Not available.';
    for (const id of ['compliance-table', 'trend-table', 'overdue-table', 'hours-table']) failed($(id), errs.compliance, 'Compliance');
  }
  if (res.monthly) renderRates(res.monthly); else failed($('rates-table'), errs.monthly, 'Monthly rates');
  if (res.matrix) renderMatrix(res.matrix); else failed($('matrix-table'), errs.matrix, 'IMIM matrix');
  // Wait for the charts the renderers started before saying the page is drawn.
  await settle();
  if (gen === generation) rendered();
}

/** settle resolves when no request or chart is in flight. */
function settle() {
  return new Promise((resolve) => {
    const check = () => (document.body.dataset.busy === 'true' ? setTimeout(check, 50) : resolve());
    check();
  });
}

async function main() {
  wireFilters();
  syncForm();
  const [, outline] = await Promise.allSettled([initPage(), loadOutline()]);
  if (outline.status === 'rejected') $('lists-error').append(errorBox(outline.reason, 'Divisions, units and courses could not be listed'));
  syncForm();
  await render();
}

main();
