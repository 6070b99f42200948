// evaluate.js: the Evaluator page (/evaluate). The form (kept in the URL)
// names a treatment — a course, or hours in a course category — and an
// outcome; Run asks /api/cohorts (crude and adjusted), /api/prepost
// (within officer), /api/staggered (the roll-out estimate and its event
// study) and /api/dose, and shows them side by side with the caveats the
// answers themselves report.

import {
  $, h, api, chart, clear, empty, errorBox, fmtChange, fmtCI, fmtInt, fmtNum, fmtRate, initPage, loading, query,
  readState, rendered, table, twin, writeState, ApiError,
} from './app.js';

const defaults = { course: '', category: '', min_hours: '', outcome: 'force', from: '', to: '', estimand: 'simple', window: '12' };
const outcomeNames = {
  force: 'use of force', complaints: 'complaints', 'sustained-complaints': 'sustained complaints',
  injuries: 'officer injuries', 'subject-injuries': 'subject injuries',
};
const estimandNames = { simple: 'simple average', cohort: 'average over cohorts', calendar: 'average over calendar months', event: 'average over time since training' };

let state = readState(defaults);
let generation = 0;

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);
const ci2 = (x) => fmtNum(x, 2);

function mode() {
  return $('mode-category').checked ? 'category' : 'course';
}

function showMode() {
  const cat = mode() === 'category';
  $('course-field').hidden = cat;
  $('category-field').hidden = !cat;
  $('hours-field').hidden = !cat;
}

function syncForm() {
  $(state.category ? 'mode-category' : 'mode-course').checked = true;
  for (const k of ['course', 'category', 'min_hours', 'window']) $(k).value = state[k];
  for (const k of ['from', 'to']) $(k).value = /^\d{4}-\d{2}$/.test(state[k]) ? state[k] : '';
  for (const k of ['outcome', 'estimand']) {
    if ([...$(k).options].some((o) => o.value === state[k])) $(k).value = state[k];
  }
  showMode();
}

function readForm() {
  const cat = mode() === 'category';
  return {
    course: cat ? '' : $('course').value.trim(),
    category: cat ? $('category').value.trim() : '',
    min_hours: cat ? $('min_hours').value.trim() : '',
    outcome: $('outcome').value,
    from: $('from').value,
    to: $('to').value,
    estimand: $('estimand').value,
    window: $('window').value.trim(),
  };
}

function treatment() {
  return state.category ? { category: state.category, min_hours: state.min_hours } : { course: state.course };
}

// ---- lists ----

/** loadOutline fills the course and category suggestions and the month bounds from /api/dataset. */
async function loadOutline() {
  try {
    const o = await api('/api/dataset');
    const courses = clear($('course-list'));
    for (const x of o.courses || []) courses.append(h('option', { value: x.course_id }, `${x.title} (${x.category})`));
    const cats = clear($('category-list'));
    for (const c of o.categories || []) cats.append(h('option', { value: c }));
    for (const id of ['from', 'to']) {
      if (o.first_month) $(id).min = o.first_month;
      if (o.last_month) $(id).max = o.last_month;
    }
  } catch {
    // Suggestions only: the fields take any value and the API names a wrong one.
  }
}

// ---- rendering ----

function ratioRow(label, tag, est, lo, hi, what, officers, id) {
  const name = h('span', null, label, tag ? [' ', h('span', { class: 'label-tag' }, tag)] : null);
  const value = h('span', { id }, fmtCI(est, lo, hi, ci2));
  return [name, value, what, isNum(officers) ? fmtInt(officers) : '—'];
}

/** byUnit describes an answer's interval with errors clustered by unit, when it has one. */
function byUnit(x) {
  return isNum(x.ci_low_unit_clustered)
    ? `; clustered by unit (${fmtInt(x.unit_clusters)} units): 95% CI ${ci2(x.ci_low_unit_clustered)}–${ci2(x.ci_high_unit_clustered)}`
    : '';
}

function renderRatios(r) {
  const el = $('ratios-table');
  const rows = [];
  const c = r.cohorts;
  if (c) {
    $('definition').textContent = 'Treatment: ' + (c.treatment?.definition || '') + `. Window ${c.selection?.from} to ${c.selection?.to}, ${fmtInt(c.selection?.officers)} officers.`;
    rows.push(ratioRow('Crude', c.crude.label || 'description, not an effect', c.crude.rate_ratio, c.crude.ci_low, c.crude.ci_high,
      `Trained ${fmtRate(c.crude.trained.rate)} vs untrained ${fmtRate(c.crude.untrained.rate)} per officer-year (${fmtInt(c.crude.trained.events)} and ${fmtInt(c.crude.untrained.events)} events)`,
      c.selection?.officers, 'crude-rr'));
    rows.push(ratioRow('Adjusted: unit and calendar-month fixed effects', c.adjusted.label || 'effect estimate', c.adjusted.rate_ratio, c.adjusted.ci_low, c.adjusted.ci_high,
      `Officer-clustered interval; p = ${fmtP(c.adjusted.p_value)}${byUnit(c.adjusted)}`, c.adjusted.officers, 'adjusted-rr'));
  }
  const p = r.prepost;
  if (p) {
    rows.push(ratioRow('Within officer: before vs after', 'effect estimate', p.rate_ratio, p.ci_low, p.ci_high,
      `Officer and calendar-month fixed effects; ${fmtInt(p.switching_officers)} officers trained in the window; p = ${fmtP(p.p_value)}${byUnit(p)}`, p.officers, 'prepost-rr'));
  }
  const s = r.staggered;
  if (s && isNum(s.relative_change)) {
    // 1 + relative change reads as a rate ratio only while its interval stays above 0.
    const asRatio = isNum(s.relative_ci_low) && 1 + s.relative_ci_low > 0;
    rows.push(ratioRow('Staggered roll-out (as 1 + relative change)', 'effect estimate', asRatio ? 1 + s.relative_change : null,
      1 + s.relative_ci_low, 1 + s.relative_ci_high,
      `Relative change ${fmtChange(s.relative_change)} (95% CI ${fmtChange(s.relative_ci_low)} to ${fmtChange(s.relative_ci_high)}), ${estimandNames[s.estimand] || s.estimand}`, s.officers, 'staggered-rr'));
  }
  if (!rows.length) return empty(el, 'No rate ratio could be computed for this selection.');
  clear(el).append(table(`Rate ratios for ${outcomeNames[state.outcome] || state.outcome} (below 1 = fewer events when trained)`,
    [{ label: 'Method' }, { label: 'Rate ratio (95% CI)', num: true }, { label: 'What it is' }, { label: 'Officers', num: true }], rows, { id: 'ratios' }));
}

function fmtP(p) {
  if (!isNum(p)) return '—';
  return p < 0.001 ? '< 0.001' : fmtNum(p, 3);
}

function renderStaggered(s, err) {
  const el = $('staggered');
  if (!s) return clear(el).append(errorBox(err, 'Staggered roll-out'));
  const items = [
    h('p', null, `Estimate (${estimandNames[s.estimand] || s.estimand}): `,
      h('strong', { id: 'staggered-estimate' }, fmtCI(s.estimate, s.ci_low, s.ci_high, (x) => fmtNum(x, 4))), ` ${s.units || ''}.`),
    h('p', null, 'Relative change (Neyman interval): ', h('strong', { id: 'staggered-relative' }, `${fmtChange(s.relative_change)} (95% CI ${fmtChange(s.relative_ci_low)} to ${fmtChange(s.relative_ci_high)})`),
      ` of the untreated mean ${fmtNum(s.untreated_mean, 4)}.`),
    h('p', null, 'Allowing for units trained together (unit-clustered): ', isNum(s.se_unit_clustered)
      ? h('strong', { id: 'staggered-clustered' }, fmtCI(s.estimate, s.ci_low_unit_clustered, s.ci_high_unit_clustered, (x) => fmtNum(x, 4)))
      : h('span', { id: 'staggered-clustered' }, `not computed: ${s.se_unit_clustered_not_computed}`), '.'),
    h('p', { class: 'note' }, `${fmtInt(s.treated_cohorts)} treated cohorts, ${fmtInt(s.officers)} officers in ${fmtInt(s.unit_clusters)} units over ${fmtInt(s.months)} months; ${fmtInt(s.excluded_officers)} officers left out.`),
  ];
  clear(el).append(...items);
}

function renderEvent(ev, err) {
  const el = $('event-table');
  if (!ev) return clear(el).append(errorBox(err, 'Event study'));
  const rows = ev.event_study || [];
  if (!rows.length) return empty(el);
  clear(el).append(twin('Figures of the event study', table('Effect by months since training (negative = before: placebo checks, which should be near 0)',
    [{ label: 'Months since training', num: true }, { label: 'Estimate (95% CI), events per officer-month', num: true }, { label: 'Cohorts', num: true }, { label: 'Note' }],
    rows.map((r) => [String(r.e), fmtCI(r.estimate, r.ci_low, r.ci_high, (x) => fmtNum(x, 4)), fmtInt(r.cohorts),
      r.e < 0 ? (isNum(r.ci_low) && (r.ci_low > 0 || r.ci_high < 0) ? 'placebo: interval excludes 0' : 'placebo') : '']))));
  chart($('chart-event-study'), 'event-study', { ...treatment(), outcome: state.outcome, from: state.from, to: state.to }, 'event study');
}

function renderDose(d, err) {
  const el = $('dose-table');
  if (!d) return clear(el).append(errorBox(err, 'Dose-response'));
  const bins = d.bins || [];
  if (!bins.length) return empty(el);
  const reg = d.regression;
  clear(el).append(
    reg ? h('p', null, 'Rate ratio per 8 hours of de-escalation training in the trailing ', `${d.window_months} months: `,
      h('strong', { id: 'dose-rr' }, fmtCI(reg.rate_ratio_per_8h, reg.ci_low, reg.ci_high, ci2)), ' ', h('span', { class: 'label-tag' }, 'association, not an effect')) : null,
    h('p', { class: 'note' }, `Correlation across officers: Pearson ${fmtNum(d.pearson, 2)}, Spearman ${fmtNum(d.spearman, 2)}.`),
    table(`${outcomeNames[d.outcome] || d.outcome} per officer-year by trailing de-escalation hours`,
      [{ label: 'Hours' }, { label: 'Events', num: true }, { label: 'Officer-years', num: true }, { label: 'Rate per officer-year (95% CI)', num: true }],
      bins.map((b) => [b.label, fmtInt(b.events), fmtNum(b.officer_years, 1), fmtCI(b.rate, b.ci_low, b.ci_high, fmtRate)]), { id: 'dose' }));
  chart($('chart-dose'), 'dose', { outcome: state.outcome, window: state.window, from: state.from, to: state.to }, 'dose-response');
}

/** caveats builds the plain-language notes from what the answers report. */
function caveats(r, errs) {
  const out = [];
  const c = r.cohorts;
  if (c) {
    out.push(`Crude ratio — ${c.crude.caveat || 'a description, not an effect.'}`);
    const a = c.adjusted;
    if (isNum(a.ci_low) && isNum(a.ci_high)) {
      if (a.ci_low <= 1 && a.ci_high >= 1) {
        out.push(`The adjusted rate ratio's interval (${ci2(a.ci_low)}–${ci2(a.ci_high)}) includes 1: the data are consistent with no effect of the training on ${outcomeNames[state.outcome]}.`);
      } else {
        const pct = Math.round(Math.abs(1 - a.rate_ratio) * 100);
        out.push(`Adjusted for unit and calendar month, trained officer-months had ${pct}% ${a.rate_ratio < 1 ? 'fewer' : 'more'} ${outcomeNames[state.outcome]} per officer-year. ` +
          'It is an effect only if nothing else that changed when officers trained (assignment, supervision, policy) explains it: an association until the within-officer and roll-out estimates agree.');
      }
      if (isNum(c.crude.rate_ratio) && (c.crude.rate_ratio < a.ci_low || c.crude.rate_ratio > a.ci_high)) {
        out.push(`The crude ratio (${ci2(c.crude.rate_ratio)}) lies outside the adjusted interval: calendar-time trends or differences between units bias the crude comparison.`);
      }
    }
    if (isNum(a.nb2_alpha) || isNum(a.pearson_chi2_per_df)) {
      const over = (isNum(a.nb2_lr_p_value) && a.nb2_lr_p_value < 0.05) || (isNum(a.pearson_chi2_per_df) && a.pearson_chi2_per_df > 1.5);
      out.push(over
        ? `The counts are overdispersed (NB2 α ${fmtNum(a.nb2_alpha, 2)}, likelihood-ratio p ${fmtP(a.nb2_lr_p_value)}; Pearson χ²/df ${fmtNum(a.pearson_chi2_per_df, 2)}): the officer-clustered intervals shown allow for it, model-based ones would be too narrow.`
        : `Little overdispersion (Pearson χ²/df ${fmtNum(a.pearson_chi2_per_df, 2)}, NB2 α ${fmtNum(a.nb2_alpha, 2)}).`);
    }
  }
  const p = r.prepost;
  if (p) {
    out.push(`Within officer: each officer is compared with themself; ${fmtInt(p.officers)} officers with events count, and ${fmtInt(p.officers_without_events)} officers without any event in the window are left out (they carry no information).`);
  }
  const s = r.staggered;
  if (s) {
    if (s.excluded_officers > 0) {
      const why = (s.exclusions || []).map((x) => `${fmtInt(x.officers)} ${x.reason}`).join('; ');
      out.push(`${fmtInt(s.excluded_officers)} officers are excluded from the staggered estimate: ${why}.`);
    }
    out.push("The staggered estimate's Neyman standard error treats each officer's training month as assigned independently, and the adjusted and within-officer errors are clustered by officer; when whole units were trained together and share shocks they are too small" +
      (isNum(s.se_unit_clustered) ? ': read the intervals clustered by unit beside them.' : `, and intervals clustered by unit could not be given here (${s.se_unit_clustered_not_computed}).`));
  }
  const ev = r.event;
  if (ev && ev.event_study) {
    const pre = ev.event_study.filter((x) => x.e < 0 && isNum(x.ci_low));
    const off = pre.filter((x) => x.ci_low > 0 || x.ci_high < 0).length;
    if (pre.length) {
      out.push(`Pre-period placebos: ${off} of ${pre.length} months before training have an interval that excludes 0` +
        (off > Math.max(1, 0.1 * pre.length) ? ' — more than chance would give: trained and comparison officers were already diverging, so read the estimate with care.' : ' — about what chance gives; no sign of diverging trends before training.'));
    }
  }
  if (r.dose) out.push(`Dose-response: ${r.dose.caveat || 'an association, not an effect.'}`);
  for (const [k, e] of Object.entries(errs)) {
    if (e instanceof ApiError && e.status === 422) out.push(`${k}: not computable on this data — ${e.message}`);
  }
  const ul = clear($('caveats'));
  for (const t of out) ul.append(h('li', null, t));
}

// ---- run ----

async function run() {
  const gen = ++generation;
  clear($('form-error'));
  if (!state.course && !state.category) {
    $('form-error').append(errorBox(new ApiError(400, { error: 'give a course ID, or a category and minimum hours', param: state.category === '' && mode() === 'category' ? 'category' : 'course' })));
    rendered();
    return;
  }
  $('results').hidden = false;
  $('run').disabled = true;
  for (const id of ['ratios-table', 'staggered', 'event-table', 'dose-table']) loading($(id), 'Computing…');
  clear($('caveats'));
  const t = treatment();
  const common = { ...t, outcome: state.outcome, from: state.from, to: state.to };
  const jobs = {
    cohorts: api('/api/cohorts?' + query(common)),
    prepost: api('/api/prepost?' + query(common)),
    staggered: api('/api/staggered?' + query({ ...common, estimand: state.estimand })),
    event: state.estimand === 'event' ? null : api('/api/staggered?' + query({ ...common, estimand: 'event' })),
    dose: api('/api/dose?' + query({ outcome: state.outcome, window: state.window, from: state.from, to: state.to })),
  };
  const names = Object.keys(jobs);
  const settled = await Promise.allSettled(Object.values(jobs));
  if (gen !== generation) return;
  $('run').disabled = false;
  const r = {};
  const errs = {};
  names.forEach((n, i) => {
    if (settled[i].status === 'fulfilled') r[n] = settled[i].value;
    else errs[n] = settled[i].reason;
  });
  if (state.estimand === 'event') r.event = r.staggered;
  const bad = Object.values(errs).find((e) => e instanceof ApiError && e.status === 400);
  if (bad) {
    $('form-error').append(errorBox(bad, 'The analysis could not run'));
  }
  if (bad && !r.cohorts && !r.prepost && !r.staggered) {
    $('results').hidden = true;
  } else {
    renderRatios(r);
    for (const k of ['cohorts', 'prepost']) {
      if (errs[k] && !(errs[k] instanceof ApiError && errs[k].status === 400)) $('ratios-table').append(errorBox(errs[k], k === 'cohorts' ? 'Crude and adjusted' : 'Within officer'));
    }
    if (r.cohorts) chart($('chart-cohorts'), 'cohorts', common, 'forest plot');
    renderStaggered(r.staggered, errs.staggered);
    renderEvent(r.event, errs.event || errs.staggered);
    renderDose(r.dose, errs.dose);
    caveats(r, errs);
  }
  await settle();
  if (gen === generation) rendered();
}

function settle() {
  return new Promise((resolve) => {
    const check = () => (document.body.dataset.busy === 'true' ? setTimeout(check, 50) : resolve());
    check();
  });
}

async function main() {
  syncForm();
  $('mode-course').addEventListener('change', showMode);
  $('mode-category').addEventListener('change', showMode);
  $('analysis').addEventListener('submit', (e) => {
    e.preventDefault();
    state = readForm();
    writeState(state);
    run();
  });
  await Promise.allSettled([initPage(), loadOutline()]);
  if (state.course || state.category) await run();
  else rendered();
}

main();
