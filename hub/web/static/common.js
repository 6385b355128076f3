/* Shared by every page: boot data, text, live updates over server-sent events, actions. */
"use strict";
const BOOT = JSON.parse(document.getElementById("boot").textContent);
const T = BOOT.text;
const LANG = BOOT.lang;
const CSRF = document.querySelector('meta[name="csrf"]').content;
let serverSkew = 0;

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

function fmt(template, params) {
  return template.replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
}

/* Follow an event stream; EventSource reconnects by itself, and we reopen it if it gives up
   (the hub refused it: too many pages open, or restarting). Reopening waits longer each time,
   with some randomness, so a room of TVs and phones does not come back all at once. */
function live(url, handlers) {
  const banner = document.getElementById("offline");
  let source = null;
  let delay = 3000;
  function open() {
    source = new EventSource(url);
    source.addEventListener("open", () => { banner.hidden = true; delay = 3000; });
    for (const [name, fn] of Object.entries(handlers)) {
      source.addEventListener(name, (e) => {
        banner.hidden = true;
        const data = JSON.parse(e.data);
        if (data.now) serverSkew = Date.parse(data.now) - Date.now();
        fn(data);
      });
    }
    source.onerror = () => {
      banner.hidden = false;
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(open, delay * (0.75 + Math.random() / 2));
        delay = Math.min(delay * 2, 60000);
      }
    };
  }
  open();
}

async function post(url, body) {
  try {
    const r = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: JSON.stringify(body),
    });
    try { return await r.json(); } catch { return { status: "error", error: fmt(T.http_error, { status: r.status }) }; }
  } catch (err) {
    return { status: "error", error: T.offline };
  }
}

function waitText(minutes) {
  if (minutes === null || minutes === undefined) return T.unknown_wait;
  return minutes <= 2 ? T.soon : fmt(T.about_minutes, { n: minutes });
}

/* The estimated call of a ticket (or of a ticket taken now) in plain words: "sekitar pukul
   09.40 - 10.05" where it is uncertain, one time where it is not, "segera", "belum dapat
   diperkirakan" only when no counter will serve the service today, "setelah jam tutup" when
   the call comes after closing (the page adds the warning). */
function callText(v, zone) {
  if (v.served_today === "no") return T.after_closing;
  if (v.estimated_wait_min === null || v.estimated_wait_min === undefined) return T.unknown_wait;
  if (v.estimated_wait_min <= 2) return T.soon;
  const z = zone ? ` ${zone}` : "";
  return v.estimated_call_from
    ? fmt(T.call_window, { from: v.estimated_call_from, to: v.estimated_call_to }) + z
    : fmt(T.call_about, { at: v.estimated_call_at }) + z;
}

/* The warning for a call that may come, or comes, after closing; "" when there is none. */
function lateText(v) {
  return v.served_today === "no" ? T.not_today : v.served_today === "maybe" ? T.maybe_not_today : "";
}

/* A service's daily quota as the kiosk and the TV say it: `full` when none is left ("Kuota
   hari ini habis": the kiosk's button is off), and "Sisa kuota: 5" once few are left (10 or
   fewer, or a fifth of the quota or less), so a citizen still on the way sees it coming;
   "" with no quota or plenty left. `quota_left` comes from the hub, so every surface agrees. */
function quotaText(v) {
  const left = v.quota_left;
  if (left === null || left === undefined || v.quota === null || v.quota === undefined) {
    return { full: false, text: "" };
  }
  if (left <= 0) return { full: true, text: T.quota_full };
  const few = left <= 10 || left <= v.quota * 0.2;
  return { full: false, text: few ? fmt(T.quota_left, { n: left }) : "" };
}

/* The office's state (`office/state`: open or not, why, when it opens) in the page's own
   language, or null while it is open: the headline ("Kantor tutup", "Kantor belum buka"), the
   holiday's name on a holiday, when it opens ("buka lagi Senin, 1 Desember pukul 07.30", in the
   office's time zone) and the whole line. Built here from the hub's fields rather than taken
   from its `text`, which is in the office's language: a page may be read in English. */
function officeClosed(o, tz) {
  if (!o || o.open) return null;
  const headline = o.reason === "before_opening" ? T.office_not_open_yet
    : o.reason === "after_closing" ? T.office_closed_now : T.office_closed;
  let opens = T.office_no_opening;
  if (o.opens_at) {
    const at = new Date(o.opens_at);
    const locale = LANG === "en" ? "en-GB" : "id-ID";
    const time = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: tz })
      .format(at).replace(/[.:]/, LANG === "en" ? ":" : ".");
    const sameDay = new Intl.DateTimeFormat("en-CA", { timeZone: tz }).format(at) === o.day;
    const day = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long", timeZone: tz }).format(at);
    opens = sameDay ? fmt(T.office_opens_today, { time }) : fmt(T.office_opens_again, { day, time });
  }
  return {
    headline,
    holiday: o.reason === "holiday" ? o.holiday || "" : "",
    opens,
    line: `${headline} — ${opens}`,
    tickets: Boolean(o.tickets),
  };
}

function statusText(counter) {
  if (counter.status === "break") {
    return counter.until ? fmt(T.break_until, { until: counter.until }) : T.break;
  }
  return T[counter.status] || counter.status;
}

/* The office clock (server time, office time zone), e.g. 09.05. */
function officeClock(tz, withSeconds) {
  const opts = { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: tz };
  if (withSeconds) opts.second = "2-digit";
  return new Intl.DateTimeFormat("id-ID", opts).format(new Date(Date.now() + serverSkew))
    .replace(/:/g, ".");
}

function officeDate(tz) {
  return new Intl.DateTimeFormat(LANG === "en" ? "en-GB" : "id-ID", {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: tz,
  }).format(new Date(Date.now() + serverSkew));
}

/* The phone-number form of the status page and the kiosk: the citizen opts in to SMS or
   WhatsApp for this one ticket. Shown only where the office has a channel; false otherwise. */
async function notifyForm(box, token) {
  let info;
  try {
    const r = await fetch(`/api/notify/${encodeURIComponent(token)}`, { credentials: "same-origin" });
    if (!r.ok) return false;
    info = (await r.json()).data;
  } catch {
    return false;
  }
  if (!info || !info.channels.length) return false;
  const names = { sms: T.notify_sms, whatsapp: T.notify_whatsapp };
  const done = (sub) => {
    box.innerHTML = `<p class="notify-done" id="notify-done">${esc(fmt(T.notify_done, { phone: sub.phone }))}</p>`;
  };
  if (info.subscription) { done(info.subscription); return true; }
  const choices = info.channels.length < 2 ? "" : `<div class="notify-channels">${info.channels.map((c, i) =>
    `<label><input type="radio" name="notify-channel" value="${esc(c)}"${i ? "" : " checked"}> ${esc(names[c] || c)}</label>`
  ).join("")}</div>`;
  box.innerHTML = `<form class="notify-form" id="notify-form">
      <label for="notify-phone" class="notify-title">${esc(T.notify_title)}</label>
      <input id="notify-phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="20"
        placeholder="${esc(T.notify_example)}" required>
      ${choices}
      <label class="consent"><input type="checkbox" id="notify-consent"> ${esc(T.notify_consent)}</label>
      <button class="primary" id="notify-send">${esc(T.notify_send)}</button>
      <p class="error" id="notify-error" hidden></p>
    </form>`;
  const error = box.querySelector("#notify-error");
  box.querySelector("form").onsubmit = async (ev) => {
    ev.preventDefault();
    const picked = box.querySelector('input[name="notify-channel"]:checked');
    const r = await post("/api/notify", {
      token,
      phone: box.querySelector("#notify-phone").value,
      consent: box.querySelector("#notify-consent").checked,
      channel: picked ? picked.value : null,
      lang: document.documentElement.lang,
    });
    if (r.status === "ok") done(r.data);
    else { error.textContent = r.error || ""; error.hidden = false; }
  };
  return true;
}
