(function () {
  'use strict';
  // Everything from the transcripts reaches the page through textContent
  // (h below) or attribute values, never as markup.
  var PAGE = 100;
  var rows = JSON.parse(document.getElementById('runs').textContent);
  var shown = rows, page = 0, sortKey = 1, sortDir = 1, current = null;
  var byId = {};
  rows.forEach(function (r) { byId[r[0]] = r; });

  function h(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(e, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(e, x); }); return; }
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  function usd(x) {
    if (x === 0) return '0';
    if (x < 0.01) return x.toFixed(6);
    if (x < 100) return x.toFixed(4);
    return x.toFixed(2);
  }
  // cost shows a cost honestly: unknown is not $0, a lower bound has ≥.
  function cost(x, flag) {
    if (flag === 2 || x === null || x === undefined) return h('span', { class: 'unk', title: 'no call of this run could be priced' }, 'unknown');
    if (flag === 1) return h('span', { class: 'lb', title: 'lower bound: some calls have an unknown cost' }, '≥$' + usd(x));
    return '$' + usd(x);
  }
  function dur(ms) {
    if (ms < 1000) return Math.round(ms) + 'ms';
    if (ms < 60000) return (ms / 1000).toFixed(2) + 's';
    var s = Math.round(ms / 1000), m = Math.floor(s / 60);
    if (m < 60) return m + 'm' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0') + 'm';
  }
  // tickLabel formats an axis offset in the unit the whole axis uses.
  function tickLabel(t, total) {
    if (total < 1000) return Math.round(t) + 'ms';
    if (total < 60000) return (t / 1000).toFixed(total < 5000 ? 1 : 0) + 's';
    var s = Math.round(t / 1000), m = Math.floor(s / 60);
    if (total < 3600000) return m + ':' + String(s % 60).padStart(2, '0');
    return Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0');
  }
  function tok(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(2) + 'B';
    if (n >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    return String(n);
  }

  // go opens a run (and a span of it) through the URL fragment, so that
  // the back button and shared links work; the same fragment again still
  // opens it.
  function go(run, span) {
    var frag = '#run=' + run + (span ? '&span=' + span : '');
    if (location.hash === frag) route(); else location.hash = frag;
  }
  function link(run, span, text) {
    return h('a', { href: '#run=' + run + (span ? '&span=' + span : ''), onclick: function (e) { e.preventDefault(); e.stopPropagation(); go(run, span); } }, text);
  }
  function subBadge(r) {
    var tip = 'subagent of ' + r[14];
    if (r[15]) return link(r[15], r[16], h('span', { class: 'badge b-inf', title: tip + ' (open the run that spawned it)' }, 'sub'));
    return h('span', { class: 'badge b-inf', title: tip + ' (its run is not in the inputs)' }, 'sub');
  }

  // ---- the list of runs: filtered, sorted, paginated -------------------
  function sortValue(r, k) {
    if (k === 10) return r[11] === 2 ? -1 : r[10]; // unknown cost sorts below every known one
    return r[k];
  }
  function applySort() {
    shown.sort(function (a, b) {
      var x = sortValue(a, sortKey), y = sortValue(b, sortKey);
      if (x < y) return -sortDir;
      if (x > y) return sortDir;
      return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : (a[0] < b[0] ? -1 : 1);
    });
  }
  function filter(q) {
    q = q.trim().toLowerCase();
    shown = !q ? rows.slice() : rows.filter(function (r) {
      return [r[0], r[2], r[3], r[4], r[5], r[14]].join(' ').toLowerCase().indexOf(q) >= 0;
    });
    page = 0;
    applySort();
    renderList();
  }
  function renderList() {
    var body = document.getElementById('rows');
    body.textContent = '';
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    shown.slice(page * PAGE, page * PAGE + PAGE).forEach(function (r) {
      body.appendChild(h('tr', { 'data-run': r[0], class: r[0] === current ? 'sel' : null, onclick: function () { go(r[0]); } },
        h('td', { title: r[0] }, r[1].replace('T', ' ').slice(0, 19)),
        h('td', { title: r[2] }, r[2] || '-'),
        h('td', { title: r[3] }, r[3], r[14] ? subBadge(r) : null),
        h('td', { title: r[4] }, r[4] || '-'),
        h('td', { title: r[5] }, r[5] || '-'),
        h('td', { class: 'n' }, dur(r[6])),
        h('td', { class: 'n' }, r[7]),
        h('td', { class: 'n' }, r[8]),
        h('td', { class: 'n' + (r[9] ? ' bad' : '') }, r[9]),
        h('td', { class: 'n' }, tok(r[12])),
        h('td', { class: 'n' }, cost(r[10], r[11])),
        h('td', { class: 'n' + (r[13] <= 0.5 ? ' bad' : '') }, r[13].toFixed(2))));
    });
    document.getElementById('count').textContent = shown.length + ' of ' + rows.length + ' runs';
    document.getElementById('page').textContent = 'page ' + (page + 1) + ' of ' + pages;
    document.getElementById('prev').disabled = page === 0;
    document.getElementById('next').disabled = page >= pages - 1;
    document.querySelectorAll('.runs th').forEach(function (th) {
      var k = +th.getAttribute('data-k');
      if (k === sortKey) th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    });
  }
  document.querySelectorAll('.runs th').forEach(function (th) {
    th.addEventListener('click', function () {
      var k = +th.getAttribute('data-k');
      if (k === sortKey) sortDir = -sortDir;
      else { sortKey = k; sortDir = (k <= 5 || k === 13) ? 1 : -1; } // numbers: highest first; confidence: lowest first
      page = 0;
      applySort();
      renderList();
    });
  });
  document.getElementById('filter').addEventListener('input', function (e) { filter(e.target.value); });
  document.getElementById('prev').addEventListener('click', function () { page--; renderList(); });
  document.getElementById('next').addEventListener('click', function () { page++; renderList(); });

  // ---- the waterfall of one run ---------------------------------------
  // order puts each LLM call after the previous one and the tool calls it
  // emitted right under it; depth indents them.
  function order(spans) {
    var kids = {}, out = [];
    spans.forEach(function (s, i) {
      if (i === 0) return;
      var up = s.e >= 0 ? s.e : (s.p > 0 ? s.p : 0);
      (kids[up] = kids[up] || []).push(i);
    });
    function walk(i, depth) {
      out.push([i, depth]);
      (kids[i] || []).sort(function (a, b) { return spans[a].t - spans[b].t || a - b; })
        .forEach(function (k) { walk(k, depth + 1); });
    }
    walk(0, 0);
    return out;
  }
  function ticks(total) {
    var step = Math.pow(10, Math.floor(Math.log10(Math.max(total, 1) / 5)));
    [1, 2, 5, 10].some(function (m) { if (total / (step * m) <= 6) { step *= m; return true; } return false; });
    var out = [];
    for (var t = 0; t <= total + 1e-9; t += step) out.push(t);
    return out;
  }
  function inferred(s, f) { return (s.inf || []).indexOf(f) >= 0; }
  function parallel(spans, i) {
    var s = spans[i];
    if (s.k !== 'tool') return false;
    return spans.some(function (o, j) {
      return j !== i && o.k === 'tool' && o.e === s.e && o.t < s.t + s.d && s.t < o.t + o.d;
    });
  }
  function openRun(id, spanId, scroll) {
    current = id;
    var at = shown.indexOf(byId[id]);
    if (at >= 0 && Math.floor(at / PAGE) !== page) { page = Math.floor(at / PAGE); renderList(); }
    document.querySelectorAll('.runs tbody tr').forEach(function (tr) { tr.classList.toggle('sel', tr.getAttribute('data-run') === id); });
    var wf = document.getElementById('wf'), det = document.getElementById('detail');
    wf.textContent = ''; det.textContent = '';
    var el = document.getElementById('run-' + id);
    if (!el) {
      document.getElementById('pick').textContent = 'Run ' + id + ' is not in this page (filtered out, or beyond the runs it lists).';
      return;
    }
    var run = JSON.parse(el.textContent), spans = run.spans, root = spans[0];
    var total = Math.max(root.d, 1);
    spans.forEach(function (s) { total = Math.max(total, s.t + s.d); });
    document.getElementById('pick').textContent = '';
    var calls = 0, tools = 0;
    spans.forEach(function (s) { if (s.k === 'llm' || s.k === 'compaction') calls++; else if (s.k === 'tool') tools++; });
    wf.appendChild(h('h3', null, run.name, ' ',
      h('small', { class: 'muted' }, run.start.replace('T', ' ') + ' · agent ' + (run.agent || '-') + ' · session ' + run.session +
        ' · run ' + (run.run || '-') + (run.deleted ? ' · deleted session' : '') +
        ' · ' + dur(root.d) + ' · ' + calls + ' LLM calls · ' + tools + ' tool calls · cost '), cost(run.cost, run.cost_flag),
      run.parent ? h('small', { class: 'muted' }, ' · subagent of ', byId[id] && byId[id][15] ? link(byId[id][15], byId[id][16], run.parent) : run.parent) : null));
    var axis = h('div', { class: 'track' });
    ticks(total).forEach(function (t) {
      var at = 100 * t / total;
      axis.appendChild(h('span', { class: at > 92 ? 'tick last' : 'tick', style: 'left:' + at.toFixed(3) + '%' }, tickLabel(t, total)));
    });
    var tbody = h('tbody');
    var table = h('table', { class: 'wf' },
      h('colgroup', null, h('col', { class: 'lbl' }), h('col'), h('col', { class: 'num' }), h('col', { class: 'tok' }), h('col', { class: 'num' }), h('col', { class: 'num' })),
      h('thead', null, h('tr', { class: 'axisrow' }, h('th', null, 'span'), h('th', null, axis), h('th', { class: 'n' }, 'duration'),
        h('th', { class: 'n' }, 'tokens in/out'), h('th', { class: 'n' }, 'cost'), h('th', { class: 'n' }, 'confidence'))),
      tbody);
    order(spans).forEach(function (od) {
      var i = od[0], s = spans[i];
      var left = Math.min(100, Math.max(0, 100 * s.t / total)), width = Math.max(0.2, Math.min(100 - left, 100 * s.d / total));
      // The dotted edges of inferred boundaries only on bars wide enough
      // to keep their colour; the duration column says it for all.
      var wide = width >= 2;
      var cls = 'sp k-' + s.k + (s.err ? ' err' : '') + (s.off ? ' off' : '') + (s.c <= 0.5 ? ' low' : '') +
        (wide && inferred(s, 'start') ? ' infs' : '') + (wide && inferred(s, 'end') ? ' infe' : '');
      var guess = inferred(s, 'start') || inferred(s, 'end');
      var label = s.k === 'tool' ? s.tool || s.n : s.k === 'run' ? s.n : (s.m || s.n);
      var tip = s.n + '\n+' + dur(s.t) + ' for ' + dur(s.d) + (guess ? ' (boundary inferred)' : '') + '\nconfidence ' + s.c.toFixed(2) +
        (s.err ? '\nerror: ' + (s.msg || '') : '');
      tbody.appendChild(h('tr', { 'data-span': s.id, 'data-kind': s.k, onclick: function () { detail(run, i, true); } },
        h('td', { class: 'd' + Math.min(od[1], 2), title: s.n },
          label,
          s.k === 'compaction' ? h('span', { class: 'badge b-comp' }, 'compaction') : null,
          s.err ? h('span', { class: 'badge b-err', title: s.msg || '' }, s.k === 'tool' ? 'error' : 'failed') : null,
          parallel(spans, i) ? h('span', { class: 'badge b-par', title: 'ran in parallel with another tool call of the same LLM call' }, '∥') : null,
          s.off ? h('span', { class: 'badge b-off', title: 'on an abandoned branch of the session tree' }, 'off-branch') : null),
        h('td', null, h('div', { class: 'track' }, h('span', {
          class: cls, title: tip,
          style: 'left:' + left.toFixed(3) + '%;width:' + width.toFixed(3) + '%;opacity:' + (0.35 + 0.65 * s.c).toFixed(2)
        }))),
        h('td', { class: 'n' + (guess ? ' inf' : ''), title: guess ? 'a boundary of this span is inferred' : null }, (guess ? '~' : '') + dur(s.d)),
        h('td', { class: 'n' }, s.u ? tok(s.u[0] + s.u[2] + s.u[3]) + ' / ' + tok(s.u[1]) : ''),
        h('td', { class: 'n' }, s.cost !== undefined ? '$' + usd(s.cost) : (s.cs && s.cs !== 'not billed' ? h('span', { class: 'unk' }, s.cs) : '')),
        h('td', { class: 'n' + (s.c <= 0.5 ? ' bad' : '') }, s.c.toFixed(2))));
    });
    wf.appendChild(table);
    wf.appendChild(h('p', { class: 'wfkey' }, 'bars:',
      h('span', { class: 'sp k-run' }), 'run', h('span', { class: 'sp k-llm' }), 'LLM call', h('span', { class: 'sp k-compaction' }), 'compaction',
      h('span', { class: 'sp k-tool' }), 'tool', h('span', { class: 'sp k-llm err' }), 'failed', h('span', { class: 'sp k-llm low' }), 'confidence ≤ 0.5',
      h('span', { class: 'sp k-llm infs infe' }), 'inferred boundary (dotted edge)', h('span', { class: 'sp k-llm off' }), 'off the active branch',
      ' · opacity follows confidence · click a row for its evidence'));
    var pick = 0;
    spans.forEach(function (s, i) { if (s.id === spanId) pick = i; });
    detail(run, pick);
    if (scroll) document.getElementById('run').scrollIntoView();
  }

  // detail shows one span: every field, where it came from, and how sure.
  function detail(run, i, fromClick) {
    var s = run.spans[i], det = document.getElementById('detail');
    if (fromClick && history.replaceState) history.replaceState(null, '', '#run=' + run.id + '&span=' + s.id);
    document.querySelectorAll('.wf tbody tr').forEach(function (tr) { tr.classList.toggle('sel', tr.getAttribute('data-span') === s.id); });
    det.textContent = '';
    var dl = h('dl');
    function row(k, v) { if (v !== '' && v !== null && v !== undefined) dl.appendChild(h('div', { style: 'display:contents' }, h('dt', null, k), h('dd', null, v))); }
    row('span', s.n + ' (' + s.k + ', ' + s.id + ')');
    row('start', '+' + dur(s.t) + (inferred(s, 'start') ? ' (inferred)' : ''));
    row('duration', dur(s.d) + (inferred(s, 'start') || inferred(s, 'end') ? ' (a boundary is inferred)' : ''));
    row('confidence', s.c.toFixed(2) + (s.c <= 0.5 ? ' (low)' : ''));
    row('model', s.m);
    row('tool', s.tool ? s.tool + (s.call ? ' · call ' + s.call : '') : '');
    if (s.u) row('tokens', 'input ' + s.u[0] + ' · cache read ' + s.u[2] + ' · cache write ' + s.u[3] + ' · output ' + s.u[1]);
    if (s.k === 'llm' || s.k === 'compaction') row('cost', s.cost !== undefined ? '$' + usd(s.cost) + ' (' + s.cs + ')' : s.cs);
    if (s.err) row('error', (s.et ? '[' + s.et + '] ' : '') + (s.msg || ''));
    row('inferred fields', (s.inf || []).join(', '));
    if (s.off) row('branch', 'off the active branch');
    (s.l || []).forEach(function (l) {
      row(l[0], link(l[1] || run.id, l[2], l[1] ? 'run ' + l[1] + ' span ' + l[2] : 'span ' + l[2]));
    });
    var ev = h('tbody');
    (s.ev || []).forEach(function (e) {
      ev.appendChild(h('tr', null, h('td', null, run.str[e[0]]), h('td', null, run.str[e[1]]), h('td', null, e[2].toFixed(2)),
        h('td', null, sources(run, e[3])), h('td', null, run.str[e[4]])));
    });
    det.appendChild(h('div', { class: 'det' }, dl,
      h('table', null, h('thead', null, h('tr', null, h('th', null, 'field'), h('th', null, 'method'), h('th', null, 'confidence'), h('th', null, 'sources'), h('th', null, 'note'))), ev),
      s.in ? [h('div', null, 'input'), h('pre', null, s.in)] : null,
      s.out ? [h('div', null, 'output'), h('pre', null, s.out)] : null));
  }

  function sources(run, pairs) {
    var out = [];
    for (var j = 0; j + 1 < pairs.length; j += 2) out.push(run.str[pairs[j]] + (pairs[j + 1] ? ':' + pairs[j + 1] : ''));
    return out.join(' ');
  }

  function route() {
    var m = /(?:^#|&)run=([0-9a-f]+)(?:&span=([0-9a-f]+))?/.exec(location.hash);
    if (m) openRun(m[1], m[2], true);
  }
  window.addEventListener('hashchange', route);
  filter('');
  route();
})();
