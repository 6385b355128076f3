/* Booking a time for another day (reservasi): service, day, slot, "Pesan" (four taps), then
   the code and its QR to show at the kiosk on the day. A second form cancels by code. The
   offer (places left) is read again after every booking, so a full slot is never offered.
   When the office sends SMS/WhatsApp, a number (optional, with consent) asks for reminders. */
"use strict";
(function () {
  const app = document.getElementById("app");
  let offer = BOOT.offer;
  let chosen = { service: null, day: null, slot: null };
  // what was typed for reminders survives the page drawing itself again after each pick
  let reminder = { phone: "", channel: null, consent: false };

  function buttons(items, value, current, label, disabled) {
    return items.map((it) => `<button type="button" class="choice${value(it) === current ? " chosen" : ""}"
        data-value="${esc(value(it))}" ${disabled && disabled(it) ? "disabled" : ""}>${label(it)}</button>`).join("");
  }
  function onPick(box, pick) {
    document.querySelectorAll(`#${box} [data-value]`).forEach((b) => b.onclick = () => { pick(b.dataset.value); render(); });
  }

  function render(message) {
    const day = offer.days.find((d) => d.day === chosen.day);
    let html = `<h1>${esc(T.booking_title)}</h1><p>${esc(T.booking_intro)}</p>`;
    if (!offer.services.length || !offer.days.length) {
      html += `<p class="error" id="booking-none">${esc(T.booking_none)}</p>`;
    } else {
      html += `<h2>${esc(T.booking_pick_service)}</h2><div class="choices" id="booking-services">${
        buttons(offer.services, (s) => s.letter, chosen.service, (s) => `${esc(s.letter)} · ${esc(s.name)}`)}</div>`;
      if (chosen.service) {
        html += `<h2>${esc(T.booking_pick_day)}</h2><div class="choices" id="booking-days">${
          buttons(offer.days, (d) => d.day, chosen.day, (d) => esc(d.label))}</div>`;
      }
      if (chosen.service && day) {
        html += `<h2>${esc(T.booking_pick_slot)}</h2><div class="choices" id="booking-slots">${
          buttons(day.slots, (s) => s.slot, chosen.slot,
            (s) => `${esc(s.label)}<small>${esc(fmt(T.booking_left, { n: s.left[chosen.service] }))}</small>`,
            (s) => !s.left[chosen.service])}</div>`;
      }
      if (chosen.service && day && chosen.slot) {
        html += reminderFields();
        html += `<button class="primary" id="booking-submit">${esc(T.booking_submit)}</button>`;
      }
    }
    html += `<p class="error" id="booking-error" ${message ? "" : "hidden"}>${esc(message || "")}</p>
      <h2>${esc(T.booking_cancel_title)}</h2>
      <form id="booking-cancel"><input id="booking-cancel-code" maxlength="8" autocomplete="off"
        autocapitalize="characters" placeholder="${esc(T.booking_code_placeholder)}">
        <button id="booking-cancel-go">${esc(T.booking_cancel)}</button></form>
      <p id="booking-cancel-result" hidden></p>${changeForm()}`;
    app.innerHTML = html;
    onPick("booking-services", (v) => { chosen.service = v; chosen.slot = null; });
    onPick("booking-days", (v) => { chosen.day = v; chosen.slot = null; });
    onPick("booking-slots", (v) => { chosen.slot = v; });
    const phone = document.getElementById("reminder-phone");
    if (phone) {
      phone.oninput = () => { reminder.phone = phone.value; };
      document.getElementById("reminder-consent").onchange = (ev) => { reminder.consent = ev.target.checked; };
      document.querySelectorAll('input[name="reminder-channel"]').forEach((r) => r.onchange = () => { reminder.channel = r.value; });
    }
    const submit = document.getElementById("booking-submit");
    if (submit) submit.onclick = book;
    document.getElementById("booking-cancel").onsubmit = cancel;
    const change = document.getElementById("reminder-change");
    if (change) {
      change.onsubmit = (ev) => { ev.preventDefault(); changeNumber(false); };
      document.getElementById("reminder-change-remove").onclick = () => changeNumber(true);
    }
  }

  function channelChoices(name, current) {
    const channels = offer.reminders || [];
    const names = { sms: T.notify_sms, whatsapp: T.notify_whatsapp };
    return channels.length < 2 ? "" : `<div class="notify-channels">${channels.map((c) =>
      `<label><input type="radio" name="${name}" value="${esc(c)}"${c === current ? " checked" : ""}> ${esc(names[c] || c)}</label>`
    ).join("")}</div>`;
  }

  function reminderFields() {
    const channels = offer.reminders || [];
    if (!channels.length) return "";
    const current = channels.includes(reminder.channel) ? reminder.channel : channels[0];
    const choices = channelChoices("reminder-channel", current);
    return `<fieldset class="reminder" id="booking-reminder"><legend>${esc(T.reminder_title)}</legend>
      <p class="hint">${esc(T.reminder_hint)}</p>
      <input id="reminder-phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="20"
        placeholder="${esc(T.notify_example)}" aria-label="${esc(T.notify_phone)}" value="${esc(reminder.phone)}">
      ${choices}
      <label class="consent"><input type="checkbox" id="reminder-consent"${reminder.consent ? " checked" : ""}> ${esc(T.reminder_consent)}</label>
      </fieldset>`;
  }

  async function book() {
    document.getElementById("booking-submit").disabled = true;
    const body = { ...chosen, lang: LANG };
    if (reminder.phone.trim()) {
      const channels = offer.reminders || [];
      Object.assign(body, {
        phone: reminder.phone,
        consent: reminder.consent,
        channel: channels.includes(reminder.channel) ? reminder.channel : channels[0],
      });
    }
    const r = await post("/api/reservasi", body);
    if (r.status !== "ok") {
      await refresh();
      // a refused number keeps the chosen slot: only the number needs mending
      const aboutNumber = r.data && /^(phone_|notify_|reminder_)/.test(r.data.code || "");
      if (!aboutNumber) chosen.slot = null;
      render(r.error);
      return;
    }
    const b = r.data;
    app.innerHTML = `<h1>${esc(T.booking_done_title)}</h1>
      <p>${esc(T.booking_your_code)}</p><p class="big-ticket" id="booking-code">${esc(b.code)}</p>
      <div class="qr" id="booking-qr">${b.qr}</div>
      <p id="booking-what">${esc(b.service)} · ${esc(b.service_name)}<br>${esc(b.day_text)}, ${esc(b.slot_label)}</p>
      <p>${esc(T.booking_bring)}</p>
      ${b.reminder ? `<p class="ok" id="booking-reminder-done">${esc(fmt(T.reminder_done, { phone: b.reminder.phone }))}</p>` : ""}
      <button class="primary" id="booking-again">${esc(T.booking_again)}</button>`;
    document.getElementById("booking-again").onclick = async () => {
      chosen = { service: null, day: null, slot: null };
      reminder = { phone: "", channel: null, consent: false };
      await refresh(); render();
    };
  }

  // a number given, changed or removed later, by the booking's code
  function changeForm() {
    const channels = offer.reminders || [];
    if (!channels.length) return "";
    return `<h2>${esc(T.reminder_change_title)}</h2>
      <form id="reminder-change" class="reminder"><input id="reminder-change-code" maxlength="8" autocomplete="off"
        autocapitalize="characters" placeholder="${esc(T.booking_code_placeholder)}">
        <input id="reminder-change-phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="20"
          placeholder="${esc(T.notify_example)}" aria-label="${esc(T.notify_phone)}">
        ${channelChoices("reminder-change-channel", channels[0])}
        <label class="consent"><input type="checkbox" id="reminder-change-consent"> ${esc(T.reminder_consent)}</label>
        <button class="primary" id="reminder-change-save">${esc(T.reminder_save)}</button>
        <button type="button" id="reminder-change-remove">${esc(T.reminder_remove)}</button></form>
      <p id="reminder-change-result" hidden></p>`;
  }

  async function changeNumber(remove) {
    const picked = document.querySelector('input[name="reminder-change-channel"]:checked');
    const code = document.getElementById("reminder-change-code").value;
    const r = await post("/api/reservasi/reminder", {
      code,
      phone: remove ? "" : document.getElementById("reminder-change-phone").value,
      consent: document.getElementById("reminder-change-consent").checked,
      channel: picked ? picked.value : (offer.reminders || [])[0],
      lang: LANG,
    });
    const out = document.getElementById("reminder-change-result");
    out.hidden = false;
    out.className = r.status === "ok" ? "ok" : "error";
    out.textContent = r.status !== "ok" ? r.error
      : r.data.reminder ? fmt(T.reminder_done, { phone: r.data.reminder.phone })
        : fmt(T.reminder_removed, { code: r.data.code });
  }

  async function cancel(ev) {
    ev.preventDefault();
    const code = document.getElementById("booking-cancel-code").value;
    const r = await post("/api/reservasi/cancel", { code, lang: LANG });
    const out = document.getElementById("booking-cancel-result");
    out.hidden = false;
    out.className = r.status === "ok" ? "ok" : "error";
    out.textContent = r.status === "ok"
      ? fmt(T.booking_cancelled, { code: r.data.code, day: r.data.day_text, slot: r.data.slot_label })
      : r.error;
    if (r.status === "ok") await refresh();
  }

  async function refresh() {
    try {
      const r = await (await fetch(`/api/reservasi/slots?lang=${LANG}`, { credentials: "same-origin" })).json();
      if (r.status === "ok") offer = r.data;
    } catch { /* offline: keep what the page has */ }
  }

  render();
})();
