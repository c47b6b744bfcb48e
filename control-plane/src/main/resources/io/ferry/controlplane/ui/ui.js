// Ferry's timeline page: follows the event stream (/v1/events as NDJSON, with the user's token)
// from the beginning of the journal, folds it into timeslots and VM placements per node, and draws
// them as plain SVG. On a broken connection it resumes from the last offset it got; an event it
// already has (entity and sequence number) is dropped, so a reconnect never draws anything twice.
(() => {
  'use strict';

  const ROW = 46;         // px per node row
  const LABEL = 170;      // px of the node-name column
  const RENDER_EVERY = 200; // ms: at most five redraws a second, however fast events come

  const state = {
    token: null, user: null, admin: false,
    offset: null, seen: new Set(),
    events: 0, duplicates: 0, reconnects: 0,
    slots: new Map(), vms: new Map(), nodes: new Map(),
    abort: null, following: false,
  };

  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const ms = (t) => (t ? Date.parse(t) : NaN);

  // ---- signing in ------------------------------------------------------------------------
  async function api(path) {
    const r = await fetch(path, { headers: { Authorization: 'Bearer ' + state.token } });
    const text = await r.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = { detail: text }; }
    if (!r.ok) {
      const err = new Error((body && (body.detail || body.title)) || ('HTTP ' + r.status));
      err.status = r.status;
      throw err;
    }
    return body;
  }

  async function signIn(token) {
    state.token = token;
    try {
      const me = await api('/v1/whoami');
      state.user = me.user; state.admin = me.admin;
    } catch (e) {
      state.token = null;
      sessionStorage.removeItem('ferry.token');
      showLogin(e.status === 401
        ? 'This token is not valid. Ferry said: ' + e.message
        : 'Cannot reach Ferry\'s API (' + e.message + '); is the control member running?');
      return;
    }
    sessionStorage.setItem('ferry.token', token);
    $('who').textContent = 'signed in as ' + state.user + (state.admin ? ' (admin: every user\'s VMs)' : '');
    $('login').hidden = true; $('main').hidden = false; $('signout').hidden = false;
    follow();
  }

  function showLogin(message) {
    $('main').hidden = true; $('signout').hidden = true; $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('who').textContent = '';
    setStatus('', '');
  }

  function setStatus(cls, text) {
    $('status').className = cls;
    $('status').textContent = text;
  }

  // ---- the event stream ------------------------------------------------------------------
  async function follow() {
    if (state.following) return;
    state.following = true;
    while (state.token) {
      const ctl = new AbortController();
      state.abort = ctl;
      const since = state.offset ? '&since=' + encodeURIComponent(state.offset) : '';
      try {
        const r = await fetch('/v1/events?format=ndjson&heartbeat=5000' + since,
          { headers: { Authorization: 'Bearer ' + state.token }, signal: ctl.signal });
        if (r.status === 401) { state.following = false; showLogin('Your token is no longer valid: sign in again.'); return; }
        if (!r.ok) throw new Error('the event stream answered ' + r.status);
        setStatus('live', 'live');
        await readLines(r, onLine);
      } catch (e) {
        if (!ctl.signal.aborted) console.warn('event stream:', e);
      }
      if (!state.token) break;
      state.reconnects++;
      setStatus('reconnecting', 'reconnecting…');
      await new Promise((res) => setTimeout(res, 1000));
    }
    state.following = false;
  }

  // each non-empty line of an NDJSON response, as it arrives, until the response ends
  async function readLines(response, onText) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) onText(line);
      }
    }
  }

  function onLine(line) {
    let e;
    try { e = JSON.parse(line); } catch (x) { return; }
    if (e.type === 'heartbeat') return;
    const key = e.entityType + '|' + e.entityId + '#' + e.sequenceNr;
    if (state.seen.has(key)) { state.duplicates++; return; }
    state.seen.add(key);
    state.offset = e.offset;
    state.events++;
    if (e.entityType === 'timeslot') onTimeslot(e);
    else if (e.entityType === 'vm') onVm(e);
    else if (e.entityType === 'node') onNode(e);
    if (!$('detail').hidden && $('detail').dataset.vm === e.entityId) showDetail(e.entityId);
    schedule();
  }

  function onTimeslot(e) {
    const d = e.data || {};
    let s = state.slots.get(e.entityId);
    if (!s) { s = { id: e.entityId, owner: e.owner, stage: 'Requested', requested: e.time }; state.slots.set(e.entityId, s); }
    switch (e.eventType) {
      case 'TimeslotSubmitted': s.stage = 'Pending'; break;
      case 'TimeslotActivated': s.stage = 'Active'; s.node = d.nodeId; s.start = d.start; s.end = d.end; break;
      case 'TimeslotEndChanged': s.end = d.end; break;
      case 'TimeslotExpiring': s.stage = 'Expiring'; s.expiring = e.time; break;
      case 'TimeslotExpired': case 'TimeslotReleased': case 'TimeslotCancelled': case 'TimeslotFailed':
        s.stage = 'Ended'; s.ended = e.time; break;
      default: break;
    }
  }

  function onVm(e) {
    const d = e.data || {};
    let v = state.vms.get(e.entityId);
    if (!v) { v = { id: e.entityId, owner: e.owner, stage: 'Requested', segments: [], marks: [] }; state.vms.set(e.entityId, v); }
    const open = v.segments.length && v.segments[v.segments.length - 1].to == null ? v.segments[v.segments.length - 1] : null;
    const close = () => { if (open) open.to = e.time; };
    switch (e.eventType) {
      case 'VmPlaced': v.next = d.placement && d.placement.nodeId; v.stage = 'Placed'; break;
      case 'VmStarted': close(); v.segments.push({ node: v.next, from: e.time, to: null }); v.stage = 'Running'; break;
      case 'VmMigrationStarted':
        v.stage = 'Migrating'; v.target = d.target && d.target.nodeId; v.progress = null;
        if (Date.now() - ms(e.time) < 60000) watchProgress(v); // a migration in flight now, not history
        break;
      case 'VmMigrated': {
        const from = open ? open.node : null;
        const to = d.target && d.target.nodeId;
        close();
        v.segments.push({ node: to, from: e.time, to: null });
        v.marks.push({ kind: 'migration', t: e.time, from, to, downtimeMs: d.stats ? d.stats.downtimeMs : null, totalMs: d.stats ? d.stats.totalMs : null });
        v.stage = 'Running';
        break;
      }
      case 'VmMigrationFailed':
        v.marks.push({ kind: 'migration-failed', t: e.time, from: open && open.node, to: v.target, reason: d.reason });
        v.stage = 'Running';
        break;
      case 'VmSuspendStarted': v.stage = 'Suspending'; break;
      case 'VmSuspended': v.marks.push({ kind: 'suspend', t: e.time, node: open && open.node }); close(); v.stage = 'Suspended'; break;
      case 'VmResumeStarted': v.next = d.placement && d.placement.nodeId; v.stage = 'Resuming'; break;
      case 'VmResumed': close(); v.segments.push({ node: v.next, from: e.time, to: null }); v.marks.push({ kind: 'resume', t: e.time, node: v.next }); v.stage = 'Running'; break;
      case 'VmLost': v.marks.push({ kind: 'lost', t: e.time, node: open ? open.node : d.nodeId }); close(); v.stage = 'Lost'; break;
      case 'VmStopped': close(); v.stage = 'Stopped'; break;
      case 'VmFailed': close(); v.stage = 'Failed'; break;
      case 'VmDeleted': close(); v.stage = 'Deleted'; break;
      default: break;
    }
  }

  // a migration's progress, from whichever control member this page talks to
  async function watchProgress(v) {
    try {
      const r = await fetch('/v1/vms/' + encodeURIComponent(v.id) + '/progress', { headers: { Authorization: 'Bearer ' + state.token } });
      if (!r.ok || !r.body) return; // 409: it ended meanwhile
      await readLines(r, (text) => {
        const line = JSON.parse(text);
        if (line.type === 'progress') { v.progress = line.percent; schedule(); }
      });
    } catch (x) { /* the page shows the move when its event comes anyway */ }
    v.progress = null;
    schedule();
  }

  function onNode(e) {
    const n = state.nodes.get(e.entityId) || { id: e.entityId };
    n.stage = e.eventType.replace(/^Node/, '');
    state.nodes.set(e.entityId, n);
  }

  // ---- drawing ---------------------------------------------------------------------------
  let pending = false, last = 0;
  function schedule() {
    if (pending) return;
    pending = true;
    setTimeout(() => requestAnimationFrame(() => { pending = false; last = Date.now(); timed(render); }),
      Math.max(0, RENDER_EVERY - (Date.now() - last)));
  }

  // how long drawing takes (window.ferryUi.stats: the last and the longest render, in ms)
  const drawing = { renders: 0, lastMs: 0, maxMs: 0 };
  function timed(draw) {
    const t = performance.now();
    draw();
    drawing.lastMs = performance.now() - t;
    drawing.maxMs = Math.max(drawing.maxMs, drawing.lastMs);
    drawing.renders++;
  }

  function rows() {
    const names = new Set(state.nodes.keys());
    for (const s of state.slots.values()) if (s.node) names.add(s.node);
    for (const v of state.vms.values()) for (const g of v.segments) if (g.node) names.add(g.node);
    return [...names].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })); // node-2 before node-10
  }

  function render() {
    const svg = $('timeline');
    const nodes = rows();
    $('empty').hidden = nodes.length > 0 || state.vms.size > 0;
    const now = Date.now();
    // from the earliest item, but no further back than the chosen window (items before it are not drawn)
    let t0 = now - 2 * 60 * 1000; // at least two minutes shown
    for (const s of state.slots.values()) { const t = ms(s.start || s.requested); if (t < t0) t0 = t; }
    for (const v of state.vms.values()) for (const g of v.segments) { const t = ms(g.from); if (t < t0) t0 = t; }
    const windowMs = Number($('window').value);
    if (windowMs > 0) t0 = Math.max(t0, now - windowMs);
    const t1 = now + Math.max(10000, (now - t0) * 0.04);
    const visible = (from, to) => to >= t0 && from <= t1;
    const width = Math.max(700, $('chart').clientWidth - 2);
    const x = (t) => LABEL + (Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0) * (width - LABEL - 10);
    const row = new Map(nodes.map((node, i) => [node, i])); // a node's row, without a search per item
    const y = (node) => 24 + row.get(node) * ROW;
    const out = [];
    out.push(`<line class="axis" x1="${LABEL}" y1="20" x2="${width - 10}" y2="20"/>`);
    const step = niceStep((t1 - t0) / 8);
    for (let t = Math.ceil(t0 / step) * step; t < t1; t += step) {
      out.push(`<text x="${x(t)}" y="14" text-anchor="middle">${esc(new Date(t).toLocaleTimeString())}</text>`);
    }
    nodes.forEach((node, i) => {
      out.push(`<rect class="row" x="0" y="${24 + i * ROW}" width="${width}" height="${ROW}"/>`);
      const n = state.nodes.get(node);
      out.push(`<text class="row-label" x="8" y="${24 + i * ROW + 18}">${esc(node)}</text>`);
      if (n && n.stage) out.push(`<text x="8" y="${24 + i * ROW + 34}">${esc(n.stage)}</text>`);
    });
    for (const s of state.slots.values()) {
      if (!s.node || !row.has(s.node)) continue;
      const from = ms(s.start), to = ms(s.ended) || ms(s.end) || now;
      if (!visible(from, to)) continue;
      const cls = 'slot-' + s.stage;
      out.push(`<rect class="slot ${cls}" data-timeslot="${esc(s.id)}" data-stage="${esc(s.stage)}" x="${x(from)}" y="${y(s.node) + 3}"`
        + ` width="${Math.max(2, x(to) - x(from))}" height="${ROW - 6}" rx="3"><title>timeslot ${esc(s.id)} (${esc(s.stage)})`
        + ` ${esc(s.start)} – ${esc(s.end)}</title></rect>`);
    }
    const labelEnd = new Map(); // per row: where its last VM label ends
    const labels = []; // drawn after every segment, so that no later segment covers one
    for (const v of state.vms.values()) {
      const name = v.id.includes('.') && !state.admin ? v.id.slice(v.id.indexOf('.') + 1) : v.id;
      for (const g of v.segments) {
        if (!g.node || !row.has(g.node)) continue;
        const from = ms(g.from), to = g.to ? ms(g.to) : now;
        if (!visible(from, to)) continue;
        const w = Math.max(3, x(to) - x(from));
        out.push(`<rect class="vm" data-vm="${esc(v.id)}" data-node="${esc(g.node)}" data-open="${g.to ? 'no' : 'yes'}" x="${x(from)}"`
          + ` y="${y(g.node) + 14}" width="${w}" height="${ROW - 28}" rx="2"><title>VM ${esc(v.id)} on ${esc(g.node)}`
          + ` from ${esc(g.from)}${g.to ? ' to ' + esc(g.to) : ' (now ' + esc(v.stage) + ')'}</title></rect>`);
        // a label where it fits in its segment and does not run into the row's previous label
        // (many VMs on one node overlap in its row: their names would pile up unreadably)
        const lx = x(from) + 4, lw = name.length * 6;
        if (w > lw + 8 && lx >= (labelEnd.get(g.node) || 0)) {
          labels.push(`<text class="vm-label" x="${lx}" y="${y(g.node) + ROW / 2 + 4}">${esc(name)}</text>`);
          labelEnd.set(g.node, lx + lw + 8);
        }
        if (!g.to && v.stage === 'Migrating') {
          out.push(`<text class="progress" data-progress-vm="${esc(v.id)}" x="${x(to) + 4}" y="${y(g.node) + ROW / 2 + 4}">`
            + `→ ${esc(v.target)}${v.progress != null ? ' ' + v.progress + '%' : ''}</text>`);
        }
      }
      for (const m of v.marks) {
        if (!visible(ms(m.t), ms(m.t))) continue;
        const mx = x(ms(m.t));
        if (m.kind === 'migration' || m.kind === 'migration-failed') {
          if (!row.has(m.from) || !row.has(m.to)) continue;
          const what = m.kind === 'migration'
            ? `migrated ${m.from} → ${m.to}, downtime ${m.downtimeMs >= 0 ? m.downtimeMs + ' ms' : 'not reported'}, total ${m.totalMs} ms`
            : `migration ${m.from} → ${m.to} failed: ${m.reason}`;
          out.push(`<line class="mark mark-${m.kind}" data-mark="${m.kind}" data-vm="${esc(v.id)}" data-from="${esc(m.from)}" data-to="${esc(m.to)}"`
            + ` x1="${mx}" y1="${y(m.from) + ROW / 2}" x2="${mx}" y2="${y(m.to) + ROW / 2}"><title>${esc(v.id)} ${esc(what)} at ${esc(m.t)}</title></line>`);
        } else if (m.node && row.has(m.node)) {
          out.push(`<circle class="mark mark-${m.kind}" data-mark="${m.kind}" data-vm="${esc(v.id)}" cx="${mx}" cy="${y(m.node) + ROW / 2}" r="5">`
            + `<title>${esc(v.id)} ${m.kind === 'suspend' ? 'suspended to disk' : m.kind === 'resume' ? 'resumed' : 'lost'} at ${esc(m.t)}</title></circle>`);
        }
      }
    }
    out.push(...labels);
    out.push(`<line class="now" x1="${x(now)}" y1="20" x2="${x(now)}" y2="${24 + nodes.length * ROW}"/>`);
    svg.setAttribute('width', width);
    svg.setAttribute('height', 30 + nodes.length * ROW);
    svg.innerHTML = out.join('');
  }

  function niceStep(raw) {
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);
    return steps.find((s) => s >= raw) || 86400000;
  }

  // ---- a VM's audit timeline -------------------------------------------------------------
  async function showDetail(id) {
    const panel = $('detail');
    panel.hidden = false;
    panel.dataset.vm = id;
    $('detail-title').textContent = 'VM ' + id;
    try {
      const t = await api('/v1/audit/vms/' + encodeURIComponent(id));
      $('detail-steps').innerHTML = t.steps.map((s) => `<li><time>${esc(new Date(s.at).toLocaleTimeString())}</time>`
        + ` <b>${esc(s.event)}</b> → ${esc(s.stageAfter)}<div class="cause">${esc(s.cause)}${s.by ? ' (' + esc(s.by) + ')' : ''}:`
        + ` ${esc(s.detail)}</div></li>`).join('');
    } catch (e) {
      $('detail-steps').innerHTML = `<li>cannot read the audit timeline: ${esc(e.message)}</li>`;
    }
  }

  $('timeline').addEventListener('click', (ev) => {
    const hit = ev.target.closest('[data-vm]');
    if (hit) showDetail(hit.dataset.vm);
  });
  $('detail-close').addEventListener('click', () => { $('detail').hidden = true; delete $('detail').dataset.vm; });
  $('login').addEventListener('submit', (ev) => { ev.preventDefault(); signIn($('token').value.trim()); });
  $('signout').addEventListener('click', () => {
    state.token = null;
    sessionStorage.removeItem('ferry.token');
    if (state.abort) state.abort.abort();
    showLogin('Signed out.');
  });
  window.addEventListener('resize', schedule);
  $('window').addEventListener('change', schedule);
  setInterval(schedule, 1000); // the "now" line moves on

  // for tests and the curious: what the page has folded, and a way to drop the connection
  window.ferryUi = {
    stats: () => ({ events: state.events, duplicates: state.duplicates, reconnects: state.reconnects,
      vms: state.vms.size, timeslots: state.slots.size, offset: state.offset,
      renders: drawing.renders, renderMs: drawing.lastMs, renderMaxMs: drawing.maxMs }),
    reconnect: () => { if (state.abort) state.abort.abort(); },
  };

  // a token in the fragment (#token=…, never sent to the server) signs in and is then removed from the address bar
  function tokenFromFragment() {
    const given = new URLSearchParams(location.hash.slice(1)).get('token');
    if (given) history.replaceState(null, '', location.pathname + location.search);
    return given;
  }
  window.addEventListener('hashchange', () => {
    const given = tokenFromFragment();
    if (!given) return;
    if (state.abort) state.abort.abort();
    resetModel();
    signIn(given);
  });

  function resetModel() {
    state.token = null; state.offset = null; state.seen.clear();
    state.slots.clear(); state.vms.clear(); state.nodes.clear();
    state.events = 0; state.duplicates = 0;
  }

  const token = tokenFromFragment() || sessionStorage.getItem('ferry.token');
  if (token) signIn(token); else showLogin('');
})();
