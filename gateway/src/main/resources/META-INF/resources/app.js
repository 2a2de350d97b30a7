// Conveyor run page: the run list and one run's pipeline, kept live with server-sent events. No build step.
(function () {
  'use strict';

  var STEPS = ['build', 'versioner', 'image-builder', 'manifest-renderer', 'promoter', 'flux-sync'];
  var runs = {};        // runId -> summary, for the list
  var source = null;    // the open EventSource
  var TOKEN_KEY = 'conveyor.token';   // the bearer token, for this browser session only

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function duration(ms) {
    if (ms === null || ms === undefined) { return ''; }
    if (ms < 1000) { return ms + ' ms'; }
    var s = Math.round(ms / 1000);
    return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  }

  function time(iso) { return iso ? new Date(iso).toLocaleString() : ''; }

  // ---- access: a bearer token kept in sessionStorage; streams open with a short-lived ticket ---------------------

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function showLogin(message) {
    if (source) { source.close(); source = null; }
    sessionStorage.removeItem(TOKEN_KEY);
    $('list-view').hidden = true;
    $('run-view').hidden = true;
    $('login-view').hidden = false;
    $('whoami').textContent = '';
    $('logout').hidden = true;
    $('login-error').textContent = message || '';
    $('login-error').hidden = !message;
  }

  // fetch with the token; a 401 asks for a token again. Resolves to the response, or null after a 401.
  function api(path, options) {
    var opts = options || {};
    opts.headers = Object.assign({}, opts.headers, { 'Authorization': 'Bearer ' + token() });
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { showLogin('Your token was not accepted. Sign in again.'); return null; }
      return r;
    });
  }

  // EventSource cannot send headers: trade the token for a ticket valid for a minute and put it in the URL.
  // A dropped stream reconnects with a fresh ticket.
  function connect(url, onUpdate) {
    if (source) { source.close(); source = null; }
    var mine = {};
    source = mine;
    api('/auth/ticket', { method: 'POST' }).then(function (r) { return r && r.ok ? r.json() : null; }).then(function (t) {
      if (!t || source !== mine) { return; }
      var es = new EventSource(url + '?ticket=' + encodeURIComponent(t.ticket));
      source = es;
      es.onopen = function () { $('live').classList.add('on'); };
      es.onerror = function () {
        $('live').classList.remove('on');
        es.close();
        setTimeout(function () { if (source === es) { connect(url, onUpdate); } }, 2000);
      };
      es.onmessage = function (message) { onUpdate(JSON.parse(message.data)); };
    });
  }

  // ---- list ---------------------------------------------------------------------------------------------------

  function filters() {
    var form = $('filters');
    return { app: form.app.value.trim(), status: form.status.value, flow: form.flow.value };
  }

  function matches(run, f) {
    return (!f.app || run.app === f.app) && (!f.status || run.status === f.status) && (!f.flow || run.flow === f.flow);
  }

  function renderList() {
    var f = filters();
    var body = $('runs').querySelector('tbody');
    body.textContent = '';
    var shown = Object.keys(runs).map(function (id) { return runs[id]; }).filter(function (r) { return matches(r, f); })
      .sort(function (a, b) { return (b.startedAt || '').localeCompare(a.startedAt || ''); });
    shown.forEach(function (run) {
      var dots = el('span', { 'class': 'dots' }, run.steps.map(function (s) {
        return el('span', { 'class': 'dot ' + s.status, title: s.id + ': ' + s.status.toLowerCase() });
      }));
      var row = el('tr', { 'class': 'run-row', 'data-run-id': run.runId, 'data-status': run.status }, [
        el('td', {}, [el('span', { 'class': 'badge ' + run.status, text: run.status.toLowerCase() })]),
        el('td', { text: run.app }),
        el('td', { text: run.flow }),
        el('td', { text: run.branch + (run.pullRequest ? ' (#' + run.pullRequest + ')' : '') }),
        el('td', {}, [el('code', { text: (run.commit || '').substring(0, 12) })]),
        el('td', { text: String(run.attempt) }),
        el('td', {}, [dots]),
        el('td', { text: time(run.startedAt) }),
        el('td', { text: duration(run.durationMillis) })
      ]);
      row.addEventListener('click', function () { location.hash = '#/runs/' + run.runId; });
      body.appendChild(row);
    });
    $('empty').hidden = shown.length > 0;
  }

  function showList() {
    $('list-view').hidden = false;
    $('run-view').hidden = true;
    api('/runs?limit=200').then(function (r) { return r && r.ok ? r.json() : []; }).then(function (list) {
      list.forEach(function (run) { runs[run.runId] = run; });
      renderList();
    });
    connect('/runs/stream', function (update) {
      runs[update.run.runId] = update.run;
      renderList();
    });
  }

  // ---- one run ------------------------------------------------------------------------------------------------

  function renderRun(run) {
    $('run-app').textContent = run.app;
    var badge = $('run-status');
    badge.textContent = run.status.toLowerCase();
    badge.className = 'badge ' + run.status;
    $('run-view').setAttribute('data-run-id', run.runId);
    $('run-view').setAttribute('data-status', run.status);
    $('run-meta').textContent = run.flow + ' \u00b7 ' + run.branch + (run.pullRequest ? ' \u00b7 PR #' + run.pullRequest : '')
      + ' \u00b7 ' + (run.commit || '').substring(0, 12) + ' \u00b7 attempt ' + run.attempt + ' \u00b7 ' + run.runId
      + ' \u00b7 ' + duration(run.durationMillis);

    var stages = $('stages');
    stages.textContent = '';
    run.steps.forEach(function (s) {
      var meta = s.status.toLowerCase() + (s.durationMillis !== null ? ' \u00b7 ' + duration(s.durationMillis) : '')
        + (s.runs > 1 ? ' \u00b7 attempt ' + s.attempt + ' (' + s.runs + ' runs)' : '');
      stages.appendChild(el('li', { 'class': 'stage', 'data-step': s.id, 'data-status': s.status, 'data-attempt': String(s.attempt) }, [
        el('div', { 'class': 'name', text: s.id }),
        el('div', { 'class': 'state', text: meta }),
        s.detail ? el('div', { 'class': 'detail', text: s.detail }) : null
      ]));
    });

    var links = $('links');
    links.textContent = '';
    run.links.forEach(function (l) {
      var value = l.href ? el('a', { href: l.href, rel: 'noopener', text: l.text }) : el('code', { text: l.text });
      links.appendChild(el('li', { 'data-rel': l.rel }, [el('span', { text: l.rel + ': ' }), value]));
    });

    var replays = $('replays');
    replays.textContent = '';
    (run.replays || []).forEach(function (a) {
      replays.appendChild(el('li', { 'class': 'replay', 'data-by': a.by, 'data-from': a.from, 'data-attempt': String(a.attempt) }, [
        el('span', { text: 'attempt ' + a.attempt + ' replayed from ' + a.from + ' by ' }),
        el('strong', { text: a.by }),
        el('span', { text: ' at ' + time(a.at) })
      ]));
    });
    $('no-replays').hidden = (run.replays || []).length > 0;

    var events = $('events').querySelector('tbody');
    events.textContent = '';
    (run.events || []).forEach(function (e) {
      events.appendChild(el('tr', {}, [
        el('td', { text: time(e.occurredAt) }),
        el('td', { text: e.type + (e.replay ? ' (replay)' : '') }),
        el('td', { text: e.step || '' }),
        el('td', { text: String(e.attempt) }),
        el('td', {}, [el('code', { text: e.source })]),
        el('td', { text: e.audit ? e.audit.by : '' })
      ]));
    });
  }

  function showRun(runId) {
    $('list-view').hidden = true;
    $('run-view').hidden = false;
    $('stages').textContent = '';
    api('/runs/' + encodeURIComponent(runId)).then(function (r) {
      if (!r) { return undefined; }
      return r.ok ? r.json() : null;
    }).then(function (run) {
      if (run) { renderRun(run); } else if (run === null) { $('run-app').textContent = 'Unknown run ' + runId; }
    });
    connect('/runs/' + encodeURIComponent(runId) + '/events', function (update) { renderRun(update.run); });
  }

  function route() {
    if (!token()) { showLogin(); return; }
    $('login-view').hidden = true;
    var match = /^#\/runs\/([A-Za-z0-9-]+)$/.exec(location.hash);
    if (match) { showRun(match[1]); } else { showList(); }
  }

  function whoami() {
    return api('/auth/me').then(function (r) { return r && r.ok ? r.json() : null; }).then(function (me) {
      if (me) {
        $('whoami').textContent = me.name + ' (' + me.role + ')';
        $('logout').hidden = false;
      }
      return me;
    });
  }

  $('login').addEventListener('submit', function (event) {
    event.preventDefault();
    var value = $('login').token.value.trim();
    $('login').token.value = '';
    if (!value) { return; }
    sessionStorage.setItem(TOKEN_KEY, value);
    whoami().then(function (me) { if (me) { route(); } });
  });
  $('logout').addEventListener('click', function (event) { event.preventDefault(); showLogin(); });
  $('filters').addEventListener('input', renderList);
  window.addEventListener('hashchange', route);
  window.STEPS = STEPS;
  if (token()) { whoami(); }
  route();
}());
