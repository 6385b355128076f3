/* Taking a ticket from one's phone (/ambil). Tap a service, then "Ambil nomor" (two taps);
   where the office sends codes, the number and its code come between (three taps). The
   ticket's own page (/t/...) follows, with the check-in code the kiosk takes on arrival.
   The ticket of today is remembered on the phone, so reopening the page leads back to it. */
"use strict";
(function () {
  const app = document.getElementById("app");
  let offer = BOOT.offer;
  let chosen = null;
  let step = "services";  // services -> confirm (device) | phone -> code (otp)
  let form = { phone: "", channel: null, code: "", sent: null };
  const KEY = "antrian-ambil";

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/ambil/sw.js", { scope: "/ambil" }).catch(() => {});
  }

  function today() { return offer.office_state ? offer.office_state.day : ""; }
  function mine() {
    try {
      const held = JSON.parse(localStorage.getItem(KEY) || "null");
      return held && held.day === today() ? held : null;
    } catch { return null; }
  }

  function serviceLine(s) {
    if (s.status !== "open") return T.join_paused;
    if (s.served_today === "no") return T.join_not_today;
    const parts = [fmt(T.join_waiting, { n: s.waiting })];
    if (s.estimated_call_at) parts.push(fmt(T.join_estimate, { time: s.estimated_call_at }));
    return parts.join(" · ");
  }

  function render(message) {
    const held = mine();
    let html = `<h1>${esc(T.join_title)}</h1><p class="office">${esc(offer.office)}</p>`;
    if (held) {
      html += `<p class="join-yours" id="join-yours">${esc(fmt(T.join_yours, { ticket: held.ticket }))}
        <a class="button primary" id="join-open" href="${esc(held.url)}">${esc(T.join_open)}</a></p>`;
    }
    const state = offer.office_state || {};
    const open = offer.services.filter((s) => s.status === "open" && s.served_today !== "no");
    if (state.tickets === false) {
      html += `<p class="error" id="join-closed">${esc(state.text || "")}</p>`;
    } else if (!open.length) {
      html += `<p class="error" id="join-none">${esc(T.join_none)}</p>`;
    } else if (step === "services") {
      html += `<p>${esc(T.join_intro)}</p><div class="join-services" id="join-services">${
        offer.services.map((s) => `<button type="button" class="join-service" data-letter="${esc(s.letter)}"
          ${s.status !== "open" || s.served_today === "no" ? "disabled" : ""}>
          <b>${esc(s.letter)} · ${esc(s.name)}</b><small>${esc(serviceLine(s))}</small></button>`).join("")}</div>`;
    } else {
      const s = offer.services.find((x) => x.letter === chosen);
      html += `<p class="join-chosen" id="join-chosen"><b>${esc(s.letter)} · ${esc(s.name)}</b><br><small>${esc(serviceLine(s))}</small></p>
        <p class="join-rule">${esc(T.join_rule)}</p>`;
      if (step === "confirm") {
        html += `<button class="primary big" id="join-take">${esc(T.join_take)}</button>`;
      } else if (step === "phone") {
        html += phoneFields() + `<button class="primary big" id="join-send">${esc(T.join_send_code)}</button>`;
      } else if (step === "code") {
        html += `<p id="join-sent">${esc(fmt(T.join_code_sent, form.sent))}</p>
          <label>${esc(T.join_code)}<input id="join-code" inputmode="numeric" autocomplete="one-time-code"
            maxlength="6" value="${esc(form.code)}"></label>
          <button class="primary big" id="join-take">${esc(T.join_take)}</button>`;
      }
      html += `<button class="link" id="join-back">${esc(T.join_back)}</button>`;
    }
    html += `<p class="error" id="join-error" ${message ? "" : "hidden"}>${esc(message || "")}</p>`;
    app.innerHTML = html;
    document.querySelectorAll("#join-services [data-letter]").forEach((b) => b.onclick = () => {
      chosen = b.dataset.letter;
      step = offer.verify === "otp" ? "phone" : "confirm";
      render();
    });
    const on = (id, fn) => { const el = document.getElementById(id); if (el) el.onclick = fn; };
    on("join-back", () => { step = "services"; form.code = ""; render(); refresh(); });
    on("join-send", sendCode);
    on("join-take", take);
    const phone = document.getElementById("join-phone");
    if (phone) phone.oninput = () => { form.phone = phone.value; };
    document.querySelectorAll('input[name="join-channel"]').forEach((r) => r.onchange = () => { form.channel = r.value; });
    const code = document.getElementById("join-code");
    if (code) { code.oninput = () => { form.code = code.value; }; code.focus(); }
  }

  function phoneFields() {
    const names = { sms: T.notify_sms, whatsapp: T.notify_whatsapp };
    const channels = offer.channels || [];
    const current = channels.includes(form.channel) ? form.channel : channels[0];
    const choices = channels.length < 2 ? "" : `<div class="notify-channels" id="join-channels">${channels.map((c) =>
      `<label><input type="radio" name="join-channel" value="${esc(c)}"${c === current ? " checked" : ""}> ${esc(names[c] || c)}</label>`
    ).join("")}</div>`;
    return `<label>${esc(T.join_phone)}<input id="join-phone" type="tel" inputmode="tel" autocomplete="tel"
        maxlength="20" placeholder="${esc(T.notify_example)}" value="${esc(form.phone)}"></label>
      <p class="hint">${esc(T.join_phone_hint)}</p>${choices}`;
  }

  async function sendCode() {
    document.getElementById("join-send").disabled = true;
    const channels = offer.channels || [];
    const r = await post("/api/ambil/kode", {
      phone: form.phone, lang: LANG,
      channel: channels.includes(form.channel) ? form.channel : channels[0],
    });
    if (r.status !== "ok") { render(r.error); return; }
    form.sent = r.data;
    step = "code";
    render();
  }

  async function take() {
    document.getElementById("join-take").disabled = true;
    const body = { service: chosen, lang: LANG, transaction: crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) };
    if (offer.verify === "otp") Object.assign(body, { phone: form.phone, code: form.code });
    const r = await post("/api/ambil", body);
    if (r.status !== "ok") {
      // a wrong code keeps the step; anything else goes back to the services, read again
      if (!(r.data && /^code_/.test(r.data.code || ""))) { step = "services"; await refresh(); }
      render(r.error);
      return;
    }
    try { localStorage.setItem(KEY, JSON.stringify({ day: r.data.day, ticket: r.data.ticket, url: r.data.status_url })); } catch { /* private mode */ }
    location.href = r.data.status_url;
  }

  async function refresh() {
    try {
      const r = await fetch(`/api/ambil?lang=${LANG}`, { credentials: "same-origin" });
      const body = await r.json();
      if (body.status === "ok") offer = body.data;
    } catch { /* the page keeps what it has; the next tap says "offline" if it still is */ }
  }

  render();
  // the queues move: the estimates are read again every 30 s while the list is shown
  setInterval(async () => { if (step === "services") { await refresh(); render(); } }, 30000);
})();
