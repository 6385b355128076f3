/* Tablet kiosk: choose a service (and priority), get the number with its QR code; or turn a
   code into the number ("Punya kode reservasi?": a booking's code, typed on the page's own
   keypad, since a tablet shows no system keyboard here, or read by a barcode scanner that
   types it and Enter).
   A shared tablet: it never leaves this page (the status link is a QR code for the citizen's
   own phone, never a link; any link is inert), and it goes back to the start screen by itself
   IDLE_MS after the last touch, ticket shown or not, so the next citizen finds it fresh. */
"use strict";
(function () {
  const IDLE_MS = 20000;
  const app = document.getElementById("app");
  let priority = false;
  let busy = false;
  let idleTimer = null;
  app.innerHTML = `
    <header class="kiosk-head"><h1 id="office"></h1><div class="sub" id="choose">${esc(T.choose_service)}</div></header>
    <div class="office-notice" id="office-notice" role="status" hidden></div>
    <div class="svc-grid" id="grid"></div>
    <button id="priority" class="prio" aria-pressed="false">♿ ${esc(T.priority_button)}</button>
    <button id="has-code" class="has-code">${esc(T.kiosk_code_entry)}</button>
    <div class="overlay" id="result" hidden></div>`;
  const prioBtn = document.getElementById("priority");
  prioBtn.onclick = () => {
    priority = !priority;
    prioBtn.setAttribute("aria-pressed", String(priority));
    prioBtn.classList.toggle("on", priority);
  };

  function newTransaction() {
    const a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return "k" + Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function show(html) {
    const box = document.getElementById("result");
    box.innerHTML = html;
    box.hidden = false;
    document.getElementById("close").onclick = hide;
    touched();
  }
  /* every touch or key restarts the wait; idle that long, the tablet is back at the start
     (typing a phone number for notifications is touches too, so it never closes under it) */
  function touched() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(hide, IDLE_MS);
  }
  for (const type of ["pointerdown", "keydown", "input"]) document.addEventListener(type, touched, true);
  // a tap on anything that would navigate (a link, a link in a message; a middle click's new
  // tab) does nothing here
  for (const type of ["click", "auxclick"]) document.addEventListener(type, (e) => {
    if (e.target instanceof Element && e.target.closest("a[href]")) e.preventDefault();
  }, true);
  document.addEventListener("contextmenu", (e) => e.preventDefault());
  window.addEventListener("dragstart", (e) => e.preventDefault());
  function hide() {
    clearTimeout(idleTimer);
    const box = document.getElementById("result");
    box.hidden = true;
    box.innerHTML = "";
    priority = false;
    prioBtn.setAttribute("aria-pressed", "false");
    prioBtn.classList.remove("on");
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();  // the keyboard
    window.scrollTo(0, 0);
  }

  /* A ticket on screen: its number, the status link as a QR code only, the phone-number form.
     `head` says how it came (a booking's check-in, a check-in of a ticket taken earlier). */
  function showTicket(d, head) {
    show(`<div class="ticket-card" id="ticket-card">
        <div class="office">${esc(d.office)}</div>
        ${head || ""}
        <div class="label">${esc(T.your_ticket)}</div>
        <div class="big-ticket" id="issued-ticket">${esc(d.ticket)}</div>
        ${d.priority ? `<div class="prio-badge">${esc(T.priority)}</div>` : ""}
        <div class="svc-name">${esc(d.service_name)}</div>
        <div class="facts"><div><div class="label">${esc(T.people_ahead)}</div>
          <div class="num" id="issued-ahead">${d.ahead}</div></div>
          <div><div class="label">${esc(T.estimated_call)}</div>
          <div class="num small" id="issued-eta">${esc(callText(d))}</div></div></div>
        ${lateText(d) ? `<p class="warning" id="late-warning">${esc(lateText(d))}</p>` : ""}
        <div class="qr" id="status-qr" data-url="${esc(d.status_url)}">${d.qr}</div>
        <p>${esc(T.scan_qr)}</p>
        ${d.printed === false ? `<p class="error" id="print-error">${esc(T.not_printed)}</p>` : ""}
        <div id="kiosk-notify"></div>
        <p class="fine">${esc(T.valid_today)}</p>
        <button id="close" class="primary">${esc(T.ok)}</button></div>`);
    notifyForm(document.getElementById("kiosk-notify"), d.status_url.split("/t/").pop());
  }

  async function take(letter) {
    if (busy) return;
    busy = true;
    try {
      const r = await post("/api/ticket", { service: letter, priority, transaction: newTransaction() });
      if (r.status === "ok") {
        showTicket(r.data);
      } else {
        show(`<div class="ticket-card error-card"><div class="big">${esc(T.refused)}</div>
            <p class="error" id="kiosk-error">${esc(r.error || "")}</p>
            <button id="close" class="primary">${esc(T.ok)}</button></div>`);
      }
    } finally {
      busy = false;
    }
  }

  /* "Punya kode reservasi?": the code's characters on keys of the page (inputmode none: no
     system keyboard covers the screen), and a field a barcode scanner types into, then Enter.
     A scanner's first key on the start screen opens it too, so a QR needs no tap at all. */
  const CODE = BOOT.code;
  const codeEntry = document.getElementById("has-code");
  function openCode(first) {
    show(`<form class="ticket-card code-card" id="code-card" autocomplete="off">
        <div class="big">${esc(T.kiosk_code_title)}</div>
        <p>${esc(fmt(T.kiosk_code_hint, { n: CODE.length }))}</p>
        <input id="code-input" class="code-input" inputmode="none" maxlength="${CODE.max}" spellcheck="false"
          autocapitalize="characters" aria-label="${esc(T.kiosk_code_title)}" value="${esc(first || "")}">
        <p class="error" id="code-error" role="alert" hidden></p>
        <div class="keypad" id="keypad">${[...CODE.alphabet].map((c) =>
          `<button type="button" data-key="${esc(c)}">${esc(c)}</button>`).join("")}
          <button type="button" class="erase" id="code-erase" aria-label="${esc(T.kiosk_code_erase)}">⌫</button></div>
        <div class="code-actions"><button type="button" id="close">${esc(T.kiosk_code_back)}</button>
          <button type="submit" class="primary" id="code-send">${esc(T.kiosk_code_send)}</button></div></form>`);
    const input = document.getElementById("code-input");
    const tidy = () => { input.value = input.value.toUpperCase().replace(/[^A-Z0-9]/g, "").slice(0, CODE.max); };
    input.addEventListener("input", tidy);
    const keypad = document.getElementById("keypad");
    // a key keeps the field focused, so a scanner may still type into it
    keypad.addEventListener("pointerdown", (e) => e.preventDefault());
    keypad.addEventListener("click", (e) => {
      const b = e.target.closest("button");
      if (!b) return;
      const all = input.selectionStart === 0 && input.selectionEnd === input.value.length;
      if (b.id === "code-erase") input.value = all ? "" : input.value.slice(0, -1);
      else input.value = (all ? "" : input.value) + b.dataset.key;
      tidy();
      input.setSelectionRange(input.value.length, input.value.length);
      input.focus();
    });
    document.getElementById("code-card").onsubmit = (e) => { e.preventDefault(); checkIn(input); };
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
  codeEntry.onclick = () => openCode("");
  document.addEventListener("keydown", (e) => {
    const box = document.getElementById("result");
    if (!box.hidden || codeEntry.disabled || e.ctrlKey || e.altKey || e.metaKey) return;
    if (e.key.length !== 1 || !/[A-Za-z0-9]/.test(e.key)) return;
    e.preventDefault();
    openCode(e.key.toUpperCase());
  });

  async function checkIn(input) {
    if (busy) return;
    busy = true;
    const send = document.getElementById("code-send");
    send.disabled = true;
    try {
      const r = await post(`/api/check-in?lang=${LANG}`, { code: input.value, transaction: newTransaction() });
      if (r.status === "ok") {
        const d = r.data;
        const head = d.check_in === "remote"
          ? `<p class="checked-in" id="checked-in">${esc(fmt(T.kiosk_code_remote, { ticket: d.ticket }))}</p>
             <p class="fine">${esc(T.kiosk_code_no_slip)}</p>`
          : `<p class="checked-in" id="checked-in">${esc(T.kiosk_code_checked_in)}</p>`;
        showTicket(d, head);
        return;
      }
      // refused: the hub's words under the code, kept (selected) to be corrected or scanned again
      const said = document.getElementById("code-error");
      if (!said) return;  // back at the start meanwhile
      said.textContent = r.error || T.refused;
      said.hidden = false;
      input.focus();
      input.select();
    } finally {
      busy = false;
      send.disabled = false;
    }
  }

  /* The office is closed: the same notice as the TV's. While kiosks may not issue (before
     `tickets_from`, after closing, a closed day) every button is off and says why; shortly
     before opening, when tickets may already be taken, the notice stays and the buttons work. */
  function drawOffice(s) {
    const closed = officeClosed(s.office_state, s.timezone);
    const box = document.getElementById("office-notice");
    box.hidden = !closed;
    box.innerHTML = closed ? `${closed.holiday ? `<div class="holiday" id="office-holiday">${esc(closed.holiday)}</div>` : ""}
      <div class="line" id="office-line">${esc(closed.line)}</div>
      ${closed.tickets ? "" : `<div class="hint">${esc(T.office_no_tickets)}</div>`}` : "";
    const off = Boolean(closed && !closed.tickets);
    document.getElementById("choose").hidden = off;
    prioBtn.disabled = off;
    codeEntry.disabled = off;  // a check-in keeps the kiosk's hours like a ticket
    return off;
  }

  function render(s) {
    document.getElementById("office").textContent = s.office;
    const shut = drawOffice(s);
    const grid = document.getElementById("grid");
    // a used-up quota or a closed office turns the button off: a press could only be refused
    grid.innerHTML = s.services.map((v) => {
      const quota = quotaText(v);
      return `
      <button class="svc-btn status-${esc(v.status)}${quota.full ? " quota-full" : ""}" data-service="${esc(v.service)}"${
        quota.full || shut ? " disabled" : ""}>
        <span class="letter">${esc(v.service)}</span>
        <span class="name">${esc(v.name)}</span>
        <span class="meta">${quota.full ? `<span class="quota late">${esc(quota.text)}</span>`
          : v.status !== "open" ? esc(T.paused) : shut ? "" : v.closed_today
          ? `<span class="late">${esc(v.late_tickets === "refuse" ? T.closed_today : T.not_today)}</span>`
          : `${v.waiting} ${esc(T.waiting)}`}${
          quota.text && !quota.full ? ` · <span class="quota">${esc(quota.text)}</span>` : ""}</span>
      </button>`;
    }).join("");
    for (const b of grid.querySelectorAll("button")) b.onclick = () => take(b.dataset.service);
  }
  live("/events/public", { state: render });
})();
