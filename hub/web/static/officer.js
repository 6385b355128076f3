/* Officer workstation: the counter's waiting list in the real calling order, the ticket in hand
   (service, priority, waiting time, transfers), calling a chosen ticket, priority corrections,
   transfers with where the ticket lands, missed tickets put back, keyboard shortcuts and a
   confirmation before closing. Every action is checked again by the hub (the account's
   counters, the rules); the page only offers what makes sense. */
"use strict";
(function () {
  const app = document.getElementById("app");
  const params = new URLSearchParams(location.search);
  const allowed = BOOT.counters || [];  // the counters of this account; empty: every counter
  let counter = Number(params.get("counter") || localStorage.getItem("antrian.counter") || allowed[0] || 0);
  let services = [];
  const keys = { call_next: T.key_next, recall: T.key_recall, skip: T.key_skip, done: T.key_done };
  const kbd = Object.fromEntries(Object.entries(keys).map(([cmd, key]) => [cmd, `<kbd>${esc(key)}</kbd>`]));
  app.innerHTML = `
    <main class="card officer">
      <div class="row"><label>${esc(T.choose_counter)} <select id="counter"></select></label>
        <span class="pill" id="status"></span></div>
      <div class="missed" id="missed" role="alert" hidden></div>
      <section class="desk" id="desk">
        <div class="label">${esc(T.serving_now)}</div>
        <div class="big-ticket" id="serving">—</div>
        <div class="current" id="current"></div>
      </section>
      <div class="meta"><b id="waiting">0</b> ${esc(T.waiting)}</div>
      <div class="pad">
        <button class="primary big" data-cmd="call_next" id="btn-next">${esc(T.call_next)} ${kbd.call_next}</button>
        <button data-cmd="recall" id="btn-recall">${esc(T.recall)} ${kbd.recall}</button>
        <button data-cmd="skip" id="btn-skip">${esc(T.skip)} ${kbd.skip}</button>
        <button data-cmd="done" id="btn-done">${esc(T.done)} ${kbd.done}</button>
      </div>
      <p class="hint" id="shortcuts">${esc(T.shortcuts_hint)}</p>
      <p id="result" class="result" role="status" aria-live="polite"></p>
      <div class="row transfer"><label>${esc(T.transfer)} <select id="transfer-to"></select></label>
        <label>${esc(T.land_label)} <select id="transfer-position">
          <option value="back">${esc(T.land_back)}</option>
          <option value="order">${esc(T.land_order)}</option>
          <option value="front">${esc(T.land_front)}</option></select></label>
        <button id="btn-transfer">${esc(T.transfer_do)}</button></div>
      <div class="row"><input id="until" type="time" value="12:00" aria-label="${esc(T.take_break)}">
        <button id="btn-break">${esc(T.take_break)}</button>
        <button id="btn-open">${esc(T.open_counter)}</button>
        <button id="btn-close">${esc(T.close_counter)}</button></div>
      <div class="confirm" id="close-confirm" role="alertdialog" hidden>
        <p id="close-question"></p>
        <button class="danger" id="btn-close-yes">${esc(T.close_yes)}</button>
        <button id="btn-close-no">${esc(T.cancel)}</button></div>
      <section class="queue-box">
        <h3>${esc(T.officer_queue)} <small>${esc(T.officer_queue_hint)}</small></h3>
        <label class="reason">${esc(T.reason)} <input id="reason" maxlength="200" autocomplete="off"
          placeholder="${esc(T.reason_hint)}"></label>
        <ol class="queue" id="queue"></ol>
        <p class="empty" id="queue-empty" hidden>${esc(T.queue_none)}</p>
        <h3>${esc(T.missed_title)}</h3>
        <ul class="queue" id="skipped"></ul>
        <p class="empty" id="skipped-empty" hidden>${esc(T.missed_none)}</p>
      </section>
      <h3>${esc(T.priority_fix)}</h3>
      <div class="row"><label>${esc(T.ticket_code)} <input id="prio-ticket" maxlength="8" size="6" placeholder="A-012"></label>
        <label>${esc(T.reason)} <input id="prio-reason" maxlength="200"></label>
        <button id="btn-prio-off">${esc(T.priority_remove)}</button>
        <button id="btn-prio-on">${esc(T.priority_mark)}</button></div>
      <div id="checkin-box" hidden><h3>${esc(T.booking_checkin_title)}</h3>
        <form class="row" id="checkin"><label>${esc(T.booking_code_placeholder)} <input id="checkin-code"
          maxlength="8" size="8" autocomplete="off" autocapitalize="characters"></label>
          <button id="btn-checkin">${esc(T.booking_checkin_do)}</button></form></div>
    </main>`;
  const sel = document.getElementById("counter");
  sel.onchange = () => { counter = Number(sel.value); localStorage.setItem("antrian.counter", counter); redraw(); };
  let last = null;

  /* What happened, in words: "Berhasil: A-002 dipanggil ke Loket 1", never a command's name. */
  function said(command, body, r) {
    const d = r.data || {};
    const c = last && last.counters.find((x) => x.counter === counter);
    const where = c ? c.name : String(counter);
    const events = d.events || [];
    const ticket = d.ticket || body.ticket || "";
    if (command === "check_in") return fmt(d.check_in === "remote" ? T.phone_checked_in_ok : T.booking_checked_in_ok, { ticket });
    if (command === "set_priority") return fmt(body.priority ? T.ok_priority_on : T.ok_priority_off, { ticket });
    if (command === "counter_status") return T[`ok_counter_${body.status}`] || "";
    if (events.includes("ticket_called")) return fmt(T.ok_called, { ticket: d.serving || ticket, counter: where });
    if (command === "call_next" && d.message) return d.message;
    const word = {
      ticket_recalled: T.ok_recalled, ticket_skipped: T.ok_skipped, ticket_done: T.ok_done,
      ticket_transferred: T.ok_transferred, ticket_reinserted: T.ok_reinserted,
    }[events[events.length - 1]];
    return word ? fmt(word, { ticket, service: body.service || "" }) : T.ok_nothing;
  }
  function show(r, text) {
    const out = document.getElementById("result");
    out.className = `result ${r.status === "ok" ? "ok" : "error"}`;
    out.textContent = r.status === "ok" ? `${T.done_ok}: ${text}` : `${T.error}: ${r.error}`;
  }
  async function send(command, body) {
    const r = await post(`/api/action?lang=${LANG}`, { command, ...body });
    show(r, r.status === "ok" ? said(command, body, r) : "");
    return r;
  }
  const act = (command, extra) => send(command, { counter, ...(extra || {}) });
  /* The reason field of the list: used by the next action, then emptied, so it is never
     written into the audit log of an action it was not meant for. */
  function takeReason() {
    const input = document.getElementById("reason");
    const why = input.value.trim();
    input.value = "";
    return why;
  }

  for (const b of app.querySelectorAll("[data-cmd]")) b.onclick = () => act(b.dataset.cmd);
  document.getElementById("btn-transfer").onclick = () => {
    const why = takeReason();
    act("transfer", {
      service: document.getElementById("transfer-to").value,
      position: document.getElementById("transfer-position").value,
      ...(why ? { reason: why } : {}),
    });
  };
  document.getElementById("btn-break").onclick = () =>
    act("counter_status", { status: "break", until: document.getElementById("until").value });
  document.getElementById("btn-open").onclick = () => act("counter_status", { status: "open" });
  /* Closing a counter sends its officer home for the day: asked once more, on the page. */
  const confirmBox = document.getElementById("close-confirm");
  document.getElementById("btn-close").onclick = () => {
    const c = last && last.counters.find((x) => x.counter === counter);
    document.getElementById("close-question").textContent = fmt(T.close_question, { counter: c ? c.name : counter });
    confirmBox.hidden = false;
    document.getElementById("btn-close-no").focus();
  };
  document.getElementById("btn-close-no").onclick = () => { confirmBox.hidden = true; };
  document.getElementById("btn-close-yes").onclick = () => {
    confirmBox.hidden = true;
    act("counter_status", { status: "closed" });
  };

  /* The list's own buttons: call this ticket, mark or unmark priority (a reason first), put a
     missed ticket back. */
  app.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-ticket]");
    if (!b) return;
    const ticket = b.dataset.ticket;
    if (b.dataset.do === "call") { const why = takeReason(); act("call_ticket", { ticket, ...(why ? { reason: why } : {}) }); }
    else if (b.dataset.do === "checkin") send("check_in", { ticket });
    else if (b.dataset.do === "reinsert") { const why = takeReason(); send("reinsert", { ticket, ...(why ? { reason: why } : {}) }); }
    else if (b.dataset.do === "priority") {
      const input = document.getElementById("reason");
      if (!input.value.trim()) {  // a correction always says why (audit log)
        show({ status: "error", error: T.reason_required });
        input.focus();
        return;
      }
      send("set_priority", { ticket, priority: b.dataset.priority === "1", reason: takeReason() });
    }
  });

  /* Keyboard shortcuts for the frequent actions; never while typing in a field. */
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || e.repeat) return;
    if (e.target.closest("input, select, textarea")) return;
    if (!confirmBox.hidden && e.key === "Escape") { confirmBox.hidden = true; return; }
    const cmd = Object.keys(keys).find((k) => keys[k].toLowerCase() === e.key.toLowerCase());
    if (!cmd) return;
    e.preventDefault();
    act(cmd);
  });

  /* A correction by ticket code (a ticket not in this counter's list). */
  async function fixPriority(priority) {
    const ticket = document.getElementById("prio-ticket").value.trim().toUpperCase();
    const input = document.getElementById("prio-reason");
    const reason = input.value.trim();
    if (!reason) { show({ status: "error", error: T.reason_required }); return; }
    const r = await send("set_priority", { ticket, priority, reason });
    if (r.status === "ok") input.value = "";
  }
  /* A citizen with a booking code (reservasi) at the desk: the code becomes a ticket, placed by
     the booking rule. Shown only when the office takes bookings. */
  fetch("/api/reservasi/slots", { credentials: "same-origin" })
    .then((r) => { document.getElementById("checkin-box").hidden = !r.ok; }).catch(() => {});
  document.getElementById("checkin").onsubmit = async (e) => {
    e.preventDefault();
    const input = document.getElementById("checkin-code");
    const r = await send("check_in", { booking: input.value.trim() });
    if (r.status === "ok") input.value = "";
  };
  document.getElementById("btn-prio-off").onclick = () => fixPriority(false);
  document.getElementById("btn-prio-on").onclick = () => fixPriority(true);

  function waited(t) { return fmt(T.waited_min, { minutes: t.waited_min }); }
  function history(t) {
    if (!t.history.length) return esc(T.history_none);
    return t.history.map((h) => esc(fmt(T.history_item, { from: h.from, to: h.to, at: h.at }))).join("; ");
  }
  function drawCurrent(t) {
    const box = document.getElementById("current");
    if (!t) { box.innerHTML = ""; return; }
    box.innerHTML = `<dl>
      <dt>${esc(T.service_label)}</dt><dd id="current-service">${esc(t.service)} · ${esc(t.service_name)}</dd>
      <dt>${esc(T.priority_label)}</dt><dd id="current-priority">${t.priority ? `<span class="prio-badge">${esc(T.priority_tag)}</span>` : esc(T.priority_regular)}</dd>
      <dt>${esc(T.waited_label)}</dt><dd id="current-waited">${esc(waited(t))} <small>(${esc(fmt(T.taken_at, { at: t.issued_at }))})</small></dd>
      <dt>${esc(T.history_label)}</dt><dd id="current-history">${history(t)}</dd></dl>`;
  }
  function drawQueue(desk) {
    const rows = desk ? desk.queue : [];
    document.getElementById("queue-empty").hidden = rows.length > 0;
    document.getElementById("queue").innerHTML = rows.map((t) => `<li data-ticket="${esc(t.ticket)}" class="${t.priority ? "is-prio" : ""}">
        <span class="code">${esc(t.ticket)}</span>
        ${t.priority ? `<span class="prio-badge">${esc(T.priority_tag)}</span>` : ""}
        ${t.phone && !t.checked_in ? `<span class="phone-badge" id="phone-${esc(t.ticket)}">${esc(T.phone_badge)}</span>` : ""}
        <span class="what">${esc(t.service_name)}${t.history.length ? ` <small>(${esc(fmt(T.from_service, { from: t.history[t.history.length - 1].from }))})</small>` : ""}</span>
        <span class="waited">${esc(waited(t))}</span>
        <span class="acts">${t.phone && !t.checked_in ? `<button data-do="checkin" data-ticket="${esc(t.ticket)}" id="checkin-${esc(t.ticket)}">${esc(T.phone_checkin)}</button>` : ""}
        <button data-do="call" data-ticket="${esc(t.ticket)}" id="call-${esc(t.ticket)}">${esc(T.call_this)}</button>
        <button data-do="priority" data-ticket="${esc(t.ticket)}" data-priority="${t.priority ? "0" : "1"}" id="prio-${esc(t.ticket)}"
          title="${esc(t.priority ? T.priority_remove : T.priority_mark)}">${esc(t.priority ? T.priority_remove : T.priority_mark)}</button></span></li>`).join("");
  }
  function drawSkipped(s, desk) {
    const mine = new Set(desk ? desk.services : []);
    const rows = (s.missed_tickets || []).filter((t) => mine.has(t.service));
    document.getElementById("skipped-empty").hidden = rows.length > 0;
    document.getElementById("skipped").innerHTML = rows.map((t) => `<li data-ticket="${esc(t.ticket)}">
        <span class="code">${esc(t.ticket)}</span><span class="what">${esc(t.service_name)}</span>
        ${t.phone && !t.checked_in ? `<span class="phone-badge">${esc(T.phone_missed_badge)}</span>` : ""}
        <span class="acts"><button data-do="reinsert" data-ticket="${esc(t.ticket)}" id="reinsert-${esc(t.ticket)}">${esc(T.reinsert)}</button></span></li>`).join("");
  }

  function redraw() {
    if (!last) return;
    const mine = last.counters.filter((x) => !allowed.length || allowed.includes(x.counter));
    const c = mine.find((x) => x.counter === counter) || mine[0];
    if (!c) return;
    counter = c.counter;
    sel.value = String(counter);
    const desk = last.desks[String(counter)];
    document.getElementById("serving").textContent = c.serving || "—";
    document.getElementById("waiting").textContent = c.waiting;
    drawCurrent(desk && desk.current);
    drawQueue(desk);
    drawSkipped(last, desk);
    const st = document.getElementById("status");
    st.textContent = statusText(c);
    st.className = `pill status-${c.status}`;
    // a call of this counter the speakers could not play: the officer calls it again
    const missed = (last.missed || []).filter((m) => m.counter === counter);
    const box = document.getElementById("missed");
    box.hidden = !missed.length;
    box.innerHTML = missed.map((m) => `<p data-ticket="${esc(m.ticket)}"><b>${
      esc(fmt(T.call_missed, { ticket: m.ticket, counter: m.counter_name }))}</b><br>${esc(T.call_missed_hint)}</p>`).join("");
  }

  function render(s) {
    last = s;
    const mine = s.counters.filter((x) => !allowed.length || allowed.includes(x.counter));
    if (sel.options.length !== mine.length) {
      sel.innerHTML = mine.map((c) => `<option value="${c.counter}">${esc(c.name)}</option>`).join("");
    }
    if (services.length !== s.services.length) {
      services = s.services;
      document.getElementById("transfer-to").innerHTML = services.map((v) =>
        `<option value="${esc(v.service)}">${esc(v.service)} · ${esc(v.name)}</option>`).join("");
    }
    redraw();
  }
  live("/events/officer", { state: render });
})();
