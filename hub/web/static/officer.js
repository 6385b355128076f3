/* Officer call pad for counters without a hardware pad. */
"use strict";
(function () {
  const app = document.getElementById("app");
  const params = new URLSearchParams(location.search);
  let counter = Number(params.get("counter") || localStorage.getItem("antrian.counter") || 0);
  let services = [];
  app.innerHTML = `
    <main class="card officer">
      <div class="row"><label>${esc(T.choose_counter)} <select id="counter"></select></label>
        <span class="pill" id="status"></span></div>
      <div class="missed" id="missed" role="alert" hidden></div>
      <div class="label">${esc(T.serving_now)}</div>
      <div class="big-ticket" id="serving">—</div>
      <div class="meta"><b id="waiting">0</b> ${esc(T.waiting)}</div>
      <div class="pad">
        <button class="primary big" data-cmd="call_next" id="btn-next">${esc(T.call_next)}</button>
        <button data-cmd="recall" id="btn-recall">${esc(T.recall)}</button>
        <button data-cmd="skip" id="btn-skip">${esc(T.skip)}</button>
        <button data-cmd="done" id="btn-done">${esc(T.done)}</button>
      </div>
      <div class="row"><select id="transfer-to"></select>
        <button id="btn-transfer">${esc(T.transfer)}</button></div>
      <div class="row"><input id="until" type="time" value="12:00">
        <button id="btn-break">${esc(T.take_break)}</button>
        <button id="btn-open">${esc(T.open_counter)}</button>
        <button id="btn-close">${esc(T.close_counter)}</button></div>
      <h3>${esc(T.priority_fix)}</h3>
      <div class="row"><label>${esc(T.ticket_code)} <input id="prio-ticket" maxlength="8" size="6" placeholder="A-012"></label>
        <label>${esc(T.reason)} <input id="prio-reason" maxlength="200"></label>
        <button id="btn-prio-off">${esc(T.priority_remove)}</button>
        <button id="btn-prio-on">${esc(T.priority_mark)}</button></div>
      <p id="result" class="result" role="status"></p>
    </main>`;
  const sel = document.getElementById("counter");
  sel.onchange = () => { counter = Number(sel.value); localStorage.setItem("antrian.counter", counter); redraw(); };
  let last = null;

  async function act(command, extra) {
    show(await post("/api/action", { command, counter, ...(extra || {}) }));
  }
  function show(r) {
    const out = document.getElementById("result");
    out.className = `result ${r.status === "ok" ? "ok" : "error"}`;
    out.textContent = r.status === "ok"
      ? `${T.done_ok}${r.data && r.data.ticket ? ": " + r.data.ticket : ""}${r.data && r.data.message ? " — " + r.data.message : ""}`
      : `${T.error}: ${r.error}`;
  }
  for (const b of app.querySelectorAll("[data-cmd]")) b.onclick = () => act(b.dataset.cmd);
  document.getElementById("btn-transfer").onclick = () =>
    act("transfer", { service: document.getElementById("transfer-to").value });
  document.getElementById("btn-break").onclick = () =>
    act("counter_status", { status: "break", until: document.getElementById("until").value });
  document.getElementById("btn-open").onclick = () => act("counter_status", { status: "open" });
  document.getElementById("btn-close").onclick = () => act("counter_status", { status: "closed" });
  /* A ticket taken as priority by mistake (or not taken as priority when it should have been):
     the officer corrects it, with a reason for the audit log. Not bound to this counter. */
  async function fixPriority(priority) {
    const ticket = document.getElementById("prio-ticket").value.trim().toUpperCase();
    const reason = document.getElementById("prio-reason").value.trim();
    if (!reason) { show({ status: "error", error: T.reason_required }); return; }
    show(await post("/api/action", { command: "set_priority", ticket, priority, reason }));
  }
  document.getElementById("btn-prio-off").onclick = () => fixPriority(false);
  document.getElementById("btn-prio-on").onclick = () => fixPriority(true);

  function redraw() {
    if (!last) return;
    const c = last.counters.find((x) => x.counter === counter) || last.counters[0];
    if (!c) return;
    counter = c.counter;
    sel.value = String(counter);
    document.getElementById("serving").textContent = c.serving || "—";
    document.getElementById("waiting").textContent = c.waiting;
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
    if (sel.options.length !== s.counters.length) {
      sel.innerHTML = s.counters.map((c) => `<option value="${c.counter}">${esc(c.name)}</option>`).join("");
    }
    if (services.length !== s.services.length) {
      services = s.services;
      document.getElementById("transfer-to").innerHTML = services.map((v) =>
        `<option value="${esc(v.service)}">${esc(v.service)} · ${esc(v.name)}</option>`).join("");
    }
    redraw();
  }
  live("/events/public", { state: render });
})();
