/* Admin dashboard: live services, counters, queue, devices, MQTT topics, stats, audit, CSV;
   bookings (reservasi) with their quotas when the office takes them. */
"use strict";
(function () {
  const app = document.getElementById("app");
  const topics = new Map();
  let recent = [];
  // Bounded like the hub's own monitor: at most `maxTopics`, least recently updated dropped.
  let maxTopics = 2000;
  let dropped = 0;
  const openPaths = new Set([""]);
  let treeDirty = false;
  app.innerHTML = `
    <div class="admin-grid">
      <section class="card wide missed" id="missed-calls" role="alert" hidden></section>
      <section class="card"><h2>${esc(T.services)}</h2><table id="services"></table></section>
      <section class="card"><h2>${esc(T.counters)}</h2><table id="counters"></table></section>
      <section class="card"><h2>${esc(T.queue)}</h2>
        <div class="row"><label>${esc(T.call_out_of_order)} <select id="ooo-counter"></select></label>
        <label>${esc(T.reason)} <input id="reason" maxlength="200"></label></div>
        <div id="queue"></div><p id="result" class="result" role="status"></p></section>
      <section class="card wide"><h2>${esc(T.devices)}</h2><table id="devices"></table></section>
      <section class="card"><h2>${esc(T.running_text)}</h2>
        <form id="running-text-form" class="running-text-form">
          <input id="running-text" maxlength="200" autocomplete="off">
          <small>${esc(fmt(T.running_text_hint, { max: 200 }))}</small>
          <div class="row"><button class="primary" id="running-text-save">${esc(T.running_text_save)}</button>
            <button type="button" id="running-text-clear">${esc(T.running_text_clear)}</button></div>
          <p id="running-text-result" class="result" role="status"></p></form></section>
      <section class="card wide"><h2>${esc(T.monitor)} <span class="pill" id="mqtt-state"></span> <span class="pill" id="mqtt-dropped" hidden></span></h2>
        <div class="monitor"><div id="tree" class="tree"></div>
        <div><h3>${esc(T.recent_messages)}</h3><ol id="recent-msgs" class="msgs"></ol></div></div></section>
      <section class="card"><h2>${esc(T.stats)}</h2><div id="stats"></div>
        <p class="row"><a class="button" id="link-reports" href="/admin/reports?lang=${esc(LANG)}">${esc(T.report_title)}</a>
        <a class="button" id="link-survey" href="/admin/survey?lang=${esc(LANG)}">${esc(T.survey_admin_title)}</a></p></section>
      <section class="card wide" id="notify-card" hidden><h2>${esc(T.notify_admin)}</h2>
        <table id="notify-channels"></table><p id="notify-today"></p>
        <table id="notify-recent"></table><table id="notify-monthly"></table></section>
      <section class="card wide" id="booking-card" hidden><h2>${esc(T.slots_title)}</h2>
        <p class="fine" id="booking-intro"></p>
        <table id="booking-days"></table><p id="booking-result" class="result" role="status"></p>
        <p class="row"><label>${esc(T.slots_detail)} <select id="booking-day"></select></label></p>
        <table id="booking-slots"></table>
        <form id="booking-lookup" class="row"><label>${esc(T.slots_lookup)}
          <input id="booking-lookup-code" maxlength="16" autocomplete="off"></label>
          <button id="booking-lookup-go">${esc(T.slots_lookup_go)}</button></form>
        <p id="booking-found" role="status"></p></section>
      <section class="card"><h2>${esc(T.export)}</h2>
        <form id="export" action="/admin/export.csv" method="get" class="row">
          <label>${esc(T.from)} <input type="date" name="from" value="${esc(BOOT.today)}"></label>
          <label>${esc(T.to)} <input type="date" name="to" value="${esc(BOOT.today)}"></label>
          <button class="primary" id="export-btn">${esc(T.download)}</button></form></section>
      <section class="card wide"><h2>${esc(T.audit)}</h2><table id="audit"></table></section>
    </div>`;

  /* The reason goes with one action only: read, then emptied, so it never lands in the audit
     log of the next actions. */
  function reason() {
    const input = document.getElementById("reason");
    const why = input.value.trim();
    input.value = "";
    return why || undefined;
  }
  /* What an action did, in words ("Berhasil: B-002 dipanggil ke Loket 3"), not its command. */
  function said(body, r) {
    const d = r.data || {};
    const events = d.events || [];
    const ticket = d.ticket || body.ticket || "";
    const c = lastCounters.find((x) => x.counter === body.counter);
    if (body.command === "set_priority") return fmt(body.priority ? T.ok_priority_on : T.ok_priority_off, { ticket });
    if (body.command === "service_status") return fmt(T[`ok_service_${body.status}`] || "", { service: body.service });
    if (body.command === "counter_status") return `${T[`ok_counter_${body.status}`] || ""}${c ? ` (${c.name})` : ""}`;
    if (events.includes("ticket_called")) return fmt(T.ok_called, { ticket: d.serving || ticket, counter: c ? c.name : "" });
    if (events.includes("ticket_reinserted")) return fmt(T.ok_reinserted, { ticket });
    return d.message || T.ok_nothing;
  }
  let lastCounters = [];
  async function act(body) {
    const r = await post(`/api/action?lang=${LANG}`, body);
    const out = document.getElementById("result");
    out.className = `result ${r.status === "ok" ? "ok" : "error"}`;
    out.textContent = r.status === "ok" ? `${T.done_ok}: ${said(body, r)}` : `${T.error}: ${r.error}`;
    loadAudit(); loadStats();
    return r;
  }
  window.antrianAct = act;

  app.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-act]");
    if (!b) return;
    const body = JSON.parse(b.dataset.act);
    if (body.command === "call_ticket") body.counter = Number(document.getElementById("ooo-counter").value);
    if (body.command === "set_priority" && !document.getElementById("reason").value.trim()) {
      // a correction always says why (audit log); the field keeps nothing else meanwhile
      const out = document.getElementById("result");
      out.className = "result error";
      out.textContent = `${T.error}: ${T.reason_required}`;
      document.getElementById("reason").focus();
      return;
    }
    const why = reason();
    if (why) body.reason = why;
    act(body);
  });
  const A = (obj) => esc(JSON.stringify(obj));

  /* The TV's running text (pengumuman): plain text, one line; an empty one clears it. */
  const runningInput = document.getElementById("running-text");
  let runningShown = null;
  async function saveRunningText(text) {
    const r = await post("/api/running-text", { text });
    const out = document.getElementById("running-text-result");
    out.className = `result ${r.status === "ok" ? "ok" : "error"}`;
    out.textContent = r.status === "ok" ? (r.data.text ? T.running_text_saved : T.running_text_cleared) : `${T.error}: ${r.error}`;
    if (r.status === "ok") { runningInput.value = r.data.text; runningShown = r.data.text; }
  }
  document.getElementById("running-text-form").onsubmit = (e) => { e.preventDefault(); saveRunningText(runningInput.value); };
  document.getElementById("running-text-clear").onclick = () => saveRunningText("");
  function drawTvNotes(s) {
    // the field follows the hub unless the admin is typing in it
    if (s.running_text !== runningShown && document.activeElement !== runningInput) {
      runningInput.value = s.running_text || "";
      runningShown = s.running_text;
    }
    const box = document.getElementById("missed-calls");
    const missed = s.missed || [];
    box.hidden = !missed.length;
    box.innerHTML = missed.map((m) => `<p data-ticket="${esc(m.ticket)}"><b>${
      esc(fmt(T.call_missed, { ticket: m.ticket, counter: m.counter_name }))}</b> <small>${esc(m.at.slice(11, 16))}</small></p>`).join("");
  }

  function render(s) {
    lastCounters = s.counters;
    drawTvNotes(s);
    document.getElementById("services").innerHTML =
      `<tr><th></th><th>${esc(T.services)}</th><th>${esc(T.status)}</th><th>${esc(T.waiting_title)}</th><th></th></tr>` +
      s.services.map((v) => `<tr data-service="${esc(v.service)}"><td class="letter">${esc(v.service)}</td>
        <td>${esc(v.name)}</td><td class="status-${esc(v.status)}">${esc(T[v.status] || v.status)}</td>
        <td>${v.waiting} <small>${esc(waitText(v.estimated_wait_min))}</small></td>
        <td>${v.status === "open"
          ? `<button data-act="${A({ command: "service_status", service: v.service, status: "paused" })}" id="pause-${esc(v.service)}">${esc(T.pause)}</button>`
          : `<button data-act="${A({ command: "service_status", service: v.service, status: "open" })}" id="resume-${esc(v.service)}">${esc(T.resume)}</button>`}</td></tr>`).join("");
    document.getElementById("counters").innerHTML = s.counters.map((c) => `<tr data-counter="${c.counter}">
        <td>${esc(c.name)}</td><td class="status-${esc(c.status)}">${esc(statusText(c))}</td>
        <td class="ticket">${esc(c.serving || "—")}</td><td>${c.served} ${esc(T.served)}</td>
        <td><button data-act="${A({ command: "counter_status", counter: c.counter, status: "open" })}">${esc(T.open)}</button>
        <button data-act="${A({ command: "counter_status", counter: c.counter, status: "break" })}">${esc(T.break)}</button>
        <button data-act="${A({ command: "counter_status", counter: c.counter, status: "closed" })}">${esc(T.closed)}</button></td></tr>`).join("");
    const ooo = document.getElementById("ooo-counter");
    if (ooo.options.length !== s.counters.length) {
      ooo.innerHTML = s.counters.map((c) => `<option value="${c.counter}">${esc(c.name)}</option>`).join("");
    }
    document.getElementById("queue").innerHTML =
      s.waiting.map((t) => `<span class="chip${t.priority ? " prio" : ""}" data-ticket="${esc(t.ticket)}">${esc(t.ticket)}
        <button data-act="${A({ command: "call_ticket", ticket: t.ticket })}" title="${esc(T.call_out_of_order)}">▶</button>
        <button data-act="${A({ command: "set_priority", ticket: t.ticket, priority: !t.priority })}" id="prio-${esc(t.ticket)}"
          title="${esc(t.priority ? T.priority_remove : T.priority_mark)}" aria-label="${esc(t.priority ? T.priority_remove : T.priority_mark)}">${t.priority ? "★" : "☆"}</button></span>`).join("") +
      s.skipped.map((t) => `<span class="chip skipped">${esc(t.ticket)}
        <button data-act="${A({ command: "reinsert", ticket: t.ticket })}">${esc(T.reinsert)}</button></span>`).join("");
    document.getElementById("devices").innerHTML =
      `<tr><th>${esc(T.device_id)}</th><th>${esc(T.role)}</th><th>${esc(T.status)}</th><th>${esc(T.last_seen)}</th>
        <th>${esc(T.reset_cause)}</th><th>${esc(T.uptime)}</th><th>${esc(T.rssi)}</th><th>${esc(T.free_heap)}</th>
        <th>${esc(T.mqtt_connects)}</th><th>${esc(T.printer)}</th><th>${esc(T.firmware)}</th></tr>` +
      s.devices.map((d) => `<tr data-device="${esc(d.id)}"${d.hints.length ? ` class="notable" data-hints="${esc(d.hints.join(" "))}"` : ""}>
        <td>${esc(d.id)}${d.registered ? "" : " ⚠"}</td>
        <td>${esc(d.role)}${d.counter ? " · " + d.counter : ""}</td>
        <td class="${d.availability === "online" ? "status-open" : "status-closed"}">${esc(d.availability === "online" ? T.online : T.offline_dev)}</td>
        <td>${esc((d.last_seen || "—").replace("T", " ").slice(0, 19))}</td>${deviceHealth(d)}
        ${firmwareCell(d)}</tr>`).join("");
    const ms = document.getElementById("mqtt-state");
    ms.textContent = s.monitor_connected ? T.online : T.offline_dev;
    ms.className = `pill ${s.monitor_connected ? "status-open" : "status-closed"}`;
  }

  /* What a board says about itself (`info`): why it last started, how long it has run, its
     signal, heap, reconnections and printer; what deserves a look is marked ⚠ with a word. */
  function uptimeText(s) {
    if (s === null) return "—";
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    return d ? fmt(T.uptime_dh, { d, h }) : h ? fmt(T.uptime_hm, { h, m }) : fmt(T.uptime_m, { m });
  }
  function flagged(text, hint) {
    return hint ? `${esc(text)} <b class="status-closed" title="${esc(hint)}">⚠ ${esc(hint)}</b>` : esc(text);
  }
  function deviceHealth(d) {
    const hint = (name, text) => (d.hints.includes(name) ? text : "");
    const cause = flagged(d.reset_cause === null ? "—" : T[`reset_${d.reset_cause}`] || d.reset_cause,
      hint("watchdog", T.watchdog_hint));
    const rssi = flagged(d.rssi === null ? "—" : fmt(T.rssi_value, { dbm: d.rssi }), hint("weak_signal", T.weak_signal));
    const connects = flagged(d.mqtt_connects ?? "—", hint("reconnects", T.reconnects_hint));
    const printer = d.printer === null ? "—" : T[`printer_${d.printer}`] || d.printer;
    return `<td data-field="reset_cause">${cause}</td>
      <td data-field="uptime">${esc(uptimeText(d.uptime_s))}</td><td data-field="rssi">${rssi}</td>
      <td data-field="free_heap">${esc(d.free_heap === null ? "—" : fmt(T.heap_value, { kb: Math.round(d.free_heap / 1024) }))}</td>
      <td data-field="mqtt_connects">${connects}</td>
      <td data-field="printer" class="${d.printer === "ok" ? "status-open" : d.printer ? "status-closed" : ""}">${esc(printer)}</td>`;
  }

  /* Firmware: the build a board runs, how its last update went, and a button to update it to
     the build this hub offers (over the air: the board fetches it from the hub). */
  const OTA_STATES = { fetching: T.ota_fetching, restarting: T.ota_restarting };
  function firmwareCell(d) {
    const o = d.ota;
    let html = esc(d.firmware || "—");
    if (o) {
      html += ` <small data-field="build">${esc(o.build || "?")}</small>`;
      const u = o.update;
      if (u && u.error === "rolled_back") html += ` <b class="status-closed">⚠ ${esc(fmt(T.ota_rolled_back, { version: u.version }))}</b>`;
      else if (u && u.state === "failed") html += ` <b class="status-closed">⚠ ${esc(fmt(T.ota_failed, { error: u.error }))}</b>`;
      else if (u && OTA_STATES[u.state]) html += ` <small>${esc(OTA_STATES[u.state])}</small>`;
      if (o.micropython && !o.micropython_ok) {
        html += ` <b class="status-closed">⚠ ${esc(fmt(T.ota_micropython, { version: o.micropython, pinned: o.micropython_pinned }))}</b>`;
      }
      if (!o.current && d.availability === "online") html += ` <button data-ota="${esc(d.id)}" id="ota-${esc(d.id)}">${esc(fmt(T.ota_update, { version: o.available }))}</button>`;
    }
    return `<td data-field="firmware">${html}</td>`;
  }
  app.addEventListener("click", async (e) => {
    const b = e.target.closest("button[data-ota]");
    if (!b) return;
    b.disabled = true;
    const r = await post(`/api/admin/firmware/${encodeURIComponent(b.dataset.ota)}`, {});
    const out = document.getElementById("result");
    out.className = `result ${r.status === "ok" ? "ok" : "error"}`;
    out.textContent = r.status === "ok" ? fmt(T.ota_sent, { device: b.dataset.ota, version: r.data.version }) : `${T.error}: ${r.error}`;
  });

  function addMessage(m) {
    if (m.payload === "") topics.delete(m.topic);
    else {
      const old = topics.get(m.topic);
      if (old) topics.delete(m.topic);  // set again below: a Map keeps the order of updates
      else if (topics.size >= maxTopics) { topics.delete(topics.keys().next().value); dropped++; }
      topics.set(m.topic, { ...m, count: (old ? old.count : 0) + 1 });
    }
    recent.push(m);
    if (recent.length > 40) recent = recent.slice(-40);
    treeDirty = true;
  }

  function pretty(text) {
    try { return JSON.stringify(JSON.parse(text), null, 1); } catch { return text; }
  }

  function drawTree() {
    if (!treeDirty) return;
    treeDirty = false;
    const note = document.getElementById("mqtt-dropped");
    note.hidden = !dropped;
    note.textContent = T.topics_dropped.replace("{n}", dropped).replace("{max}", maxTopics);
    const root = { children: new Map(), path: "" };
    for (const [topic, entry] of [...topics.entries()].sort()) {
      let node = root;
      const parts = topic.split("/");
      parts.forEach((part, i) => {
        if (!node.children.has(part)) {
          node.children.set(part, { children: new Map(), path: parts.slice(0, i + 1).join("/") });
        }
        node = node.children.get(part);
      });
      node.entry = entry;
    }
    const count = (n) => (n.entry ? 1 : 0) + [...n.children.values()].reduce((a, c) => a + count(c), 0);
    const draw = (name, n) => {
      const value = n.entry ? `<div class="value${n.entry.retained ? " retained" : ""}" data-topic="${esc(n.entry.topic)}">
          ${n.entry.retained ? `<span class="pill">${esc(T.retained)}</span>` : ""}<small>${esc(n.entry.at.slice(11, 19))} ·
          ${n.entry.count}×</small><pre>${esc(pretty(n.entry.payload))}</pre></div>` : "";
      if (!n.children.size) return `<div class="leaf"><span class="k">${esc(name)}</span>${value}</div>`;
      const open = openPaths.has(n.path) ? " open" : "";
      return `<details data-path="${esc(n.path)}"${open}><summary>${esc(name)} <small>(${count(n)})</small></summary>
        ${value}${[...n.children.entries()].map(([k, c]) => draw(k, c)).join("")}</details>`;
    };
    const tree = document.getElementById("tree");
    // A click just before this redraw has opened a <details> whose "toggle" event has not fired
    // yet: read the open state from the page itself, or that click would be lost.
    for (const d of tree.querySelectorAll("details")) {
      if (d.open) openPaths.add(d.dataset.path); else openPaths.delete(d.dataset.path);
    }
    tree.innerHTML = [...root.children.entries()].map(([k, c]) => draw(k, c)).join("");
    for (const d of tree.querySelectorAll("details")) {
      d.addEventListener("toggle", () => { if (d.open) openPaths.add(d.dataset.path); else openPaths.delete(d.dataset.path); });
    }
    document.getElementById("recent-msgs").innerHTML = recent.slice().reverse().map((m) =>
      `<li><small>${esc(m.at.slice(11, 19))}</small> <b>${esc(m.topic)}</b>${m.retained ? ` (${esc(T.retained)})` : ""}
       <code>${esc(m.payload.slice(0, 160))}</code></li>`).join("");
  }
  setInterval(drawTree, 700);

  async function loadStats() {
    const r = await fetch("/admin/stats", { credentials: "same-origin" });
    if (r.ok) document.getElementById("stats").innerHTML = await r.text();
  }
  /* An event of the audit log in words; the type stays in the row's data-type for programs. */
  function eventWords(r) {
    if (r.type === "ticket_called" && r.data && r.data.mode === "out_of_order") return T.ev_call_out_of_order;
    return T[`ev_${r.type}`] || r.type;
  }
  async function loadAudit() {
    const r = await fetch("/admin/audit", { credentials: "same-origin" });
    if (!r.ok) return;
    const { rows } = await r.json();
    document.getElementById("audit").innerHTML =
      `<tr><th>${esc(T.time)}</th><th>${esc(T.event)}</th><th>${esc(T.actor)}</th><th>${esc(T.details)}</th><th>${esc(T.reason)}</th></tr>` +
      rows.slice(0, 200).map((r) => `<tr class="${r.notable ? "notable" : ""}" data-type="${esc(r.type)}">
        <td>${esc(r.at)}</td><td>${esc(eventWords(r))}</td><td>${esc(r.actor)}</td>
        <td><code>${esc(Object.entries(r.data).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : v}`).join(" "))}</code></td>
        <td>${esc(r.reason)}</td></tr>`).join("");
  }
  /* SMS/WhatsApp: the channels, today's messages and the monthly counts (never a number). */
  async function loadNotify() {
    const r = await fetch("/api/admin/notify", { credentials: "same-origin" });
    if (!r.ok) return; // notifications are off in this office
    const d = (await r.json()).data;
    document.getElementById("notify-card").hidden = false;
    const states = { pending: T.notify_pending, sent: T.notify_sent, delivered: T.notify_delivered,
      failed: T.notify_failed, dropped: T.notify_dropped, unknown: T.notify_unknown, sending: T.notify_pending };
    document.getElementById("notify-channels").innerHTML =
      `<tr><th>${esc(T.notify_channel)}</th><th>${esc(T.status)}</th><th>${esc(T.notify_signal)}</th><th>${esc(T.notify_pending)}</th><th>${esc(T.notify_last_error)}</th></tr>` +
      d.channels.map((c) => `<tr data-channel="${esc(c.name)}"><td>${esc(c.name)}</td>
        <td class="${c.up ? "" : "notable"}">${esc(c.up ? T.notify_up : T.notify_down)}</td>
        <td>${c.signal_percent == null ? "" : esc(`${c.signal_percent}%`)}</td><td>${esc(c.pending ?? "")}</td>
        <td>${esc(c.last_error || "")}</td></tr>`).join("");
    document.getElementById("notify-today").textContent = Object.entries(d.today)
      .map(([k, n]) => `${states[k] || k}: ${n}`).join(" · ");
    document.getElementById("notify-recent").innerHTML =
      `<tr><th>${esc(T.time)}</th><th>${esc(T.ticket_code)}</th><th>${esc(T.notify_kind)}</th><th>${esc(T.notify_channel)}</th><th>${esc(T.status)}</th><th>${esc(T.notify_last_error)}</th></tr>` +
      d.recent.slice(0, 50).map((m) => `<tr data-state="${esc(m.state)}"><td>${esc(String(m.created).slice(11, 19))}</td>
        <td>${esc(m.ticket)}</td><td>${esc(m.kind)}</td><td>${esc(m.channel)}</td>
        <td>${esc(states[m.state] || m.state)}</td><td>${esc(m.last_error || "")}</td></tr>`).join("");
    document.getElementById("notify-monthly").innerHTML =
      `<tr><th>${esc(T.notify_month)}</th><th>${esc(T.notify_channel)}</th><th>${esc(T.notify_sent)}</th><th>${esc(T.notify_failed)}</th><th>${esc(T.notify_dropped)}</th></tr>` +
      d.monthly.map((m) => `<tr><td>${esc(m.month)}</td><td>${esc(m.channel)}</td><td>${esc(m.sent)}</td>
        <td>${esc(m.failed)}</td><td>${esc(m.dropped)}</td></tr>`).join("");
  }
  loadNotify();
  setInterval(loadNotify, 15000);

  /* Bookings (reservasi): each day of the window, closed or with its booked places and the
     quota per slot of each service, which the admin changes in place (0 closes that service's
     bookings that day); counts only, a code is looked up one at a time. */
  let booking = null;
  async function loadBooking() {
    // the overview, and the slots of the day chosen under it (one day's slots at a time)
    const asked = document.getElementById("booking-day").value;
    const r = await fetch(`/api/admin/booking?lang=${LANG}&day=${encodeURIComponent(asked)}`, { credentials: "same-origin" });
    if (!r.ok) return; // the office takes no bookings
    booking = (await r.json()).data;
    document.getElementById("booking-card").hidden = false;
    document.getElementById("booking-intro").textContent = fmt(T.slots_intro, { quota: booking.default_quota });
    const table = document.getElementById("booking-days");
    if (!table.contains(document.activeElement)) drawBookingDays(table);  // not under the admin's typing
    if (document.getElementById("booking-day").value !== asked) { loadBooking(); return; }  // the first open day
    drawBookingSlots();
  }
  function drawBookingDays(table) {
    const svcs = booking.services;
    table.innerHTML = `<tr><th>${esc(T.slots_day)}</th><th>${esc(T.slots_codes)}</th>${
      svcs.map((v) => `<th title="${esc(v.name)}">${esc(v.letter)}</th>`).join("")}</tr>` +
      booking.days.map((d) => d.closed
        ? `<tr data-day="${esc(d.day)}" class="closed"><td>${esc(d.label)}</td><td colspan="${svcs.length + 1}" data-field="closed">${
          esc(d.holiday ? fmt(T.slots_holiday, { holiday: d.closed }) : d.closed)}</td></tr>`
        : `<tr data-day="${esc(d.day)}"><td>${esc(d.label)}</td>
          <td data-field="codes">${Object.values(d.booked).reduce((a, n) => a + n, 0)}</td>${svcs.map((v) => {
            const q = d.quota[v.letter];
            return `<td data-service="${esc(v.letter)}"><span data-field="booked">${d.booked[v.letter]}/${q * d.slot_count}</span>
              <input type="number" class="quota" min="0" max="${booking.max_quota}" step="1" value="${q}"
                data-day="${esc(d.day)}" data-service="${esc(v.letter)}" aria-label="${esc(`${v.letter} ${d.label}`)}">${
              d.set_by_admin.includes(v.letter) ? ` <small>${esc(T.slots_set_by_admin)}</small>` : ""}</td>`;
          }).join("")}</tr>`).join("");
    const pick = document.getElementById("booking-day");
    const open = booking.days.filter((d) => !d.closed);
    const chosen = pick.value;
    pick.innerHTML = open.map((d) => `<option value="${esc(d.day)}">${esc(d.label)}</option>`).join("");
    if (open.some((d) => d.day === chosen)) pick.value = chosen;
  }
  function drawBookingSlots() {
    const d = booking.days.find((x) => x.day === document.getElementById("booking-day").value);
    const table = document.getElementById("booking-slots");
    if (!d || !d.slots) { table.innerHTML = ""; return; }
    table.innerHTML = `<tr><th>${esc(T.slots_slot)}</th>${booking.services.map((v) => `<th>${esc(v.letter)}</th>`).join("")}</tr>` +
      d.slots.map((s) => `<tr data-slot="${esc(s.slot)}"><td>${esc(s.label)}</td>${booking.services.map((v) => {
        const n = s.booked[v.letter], q = d.quota[v.letter];
        return `<td data-service="${esc(v.letter)}" class="${n > q ? "notable status-closed" : n && n >= q ? "status-closed" : ""}">${n}/${q}</td>`;
      }).join("")}</tr>`).join("");
  }
  document.getElementById("booking-day").onchange = loadBooking;
  document.getElementById("booking-days").addEventListener("change", async (e) => {
    const input = e.target.closest("input.quota");
    if (!input) return;
    const body = { day: input.dataset.day, service: input.dataset.service, quota: input.value === "" ? null : Number(input.value) };
    const r = await post(`/api/admin/booking?lang=${LANG}`, body);
    const out = document.getElementById("booking-result");
    out.className = `result ${r.status === "ok" ? "ok" : "error"}`;
    out.textContent = r.status === "ok" ? r.data.message : `${T.error}: ${r.error}`;
    input.blur();
    loadBooking();
  });
  document.getElementById("booking-lookup").onsubmit = async (e) => {
    e.preventDefault();
    const code = document.getElementById("booking-lookup-code").value.trim();
    const out = document.getElementById("booking-found");
    if (!code) return;
    const r = await fetch(`/api/reservasi/${encodeURIComponent(code)}?lang=${LANG}`, { credentials: "same-origin" });
    let a = {};
    try { a = await r.json(); } catch { a = { status: "error", error: fmt(T.http_error, { status: r.status }) }; }
    if (a.status !== "ok") { out.className = "result error"; out.textContent = a.error || ""; return; }
    const b = a.data;
    out.className = "result ok";
    const states = { booked: T.slots_state_booked, cancelled: T.slots_state_cancelled, checked_in: T.slots_state_checked_in };
    out.textContent = `${b.code}: ${b.service} ${b.service_name}, ${b.day_text} ${b.slot_label} · ${
      states[b.state] || b.state}${b.ticket ? ` (${b.ticket})` : ""}`;
  };
  loadBooking();
  setInterval(loadBooking, 30000);
  loadStats(); loadAudit();
  setInterval(loadStats, 30000);
  setInterval(loadAudit, 15000);

  live("/events/admin", {
    state: render,
    monitor: (snap) => {
      topics.clear();
      for (const t of snap.topics) topics.set(t.topic, t);
      maxTopics = snap.max_topics || maxTopics;
      dropped = snap.dropped || 0;
      recent = snap.recent.slice(-40);
      treeDirty = true;
      drawTree();
    },
    mqtt: (batch) => { for (const m of batch.messages) addMessage(m); },
  });
})();
