/* The citizen's status page (from the ticket's QR code): place in the queue, live. */
"use strict";
(function () {
  const app = document.getElementById("app");
  let notified = { ready: false, called: false };
  app.innerHTML = `
    <main class="status-card" id="card">
      <div class="office" id="office"></div>
      <div class="label">${esc(T.your_number)}</div>
      <div class="big-ticket" id="ticket"></div>
      <div class="prio-badge" id="prio" hidden>${esc(T.priority)}</div>
      <div class="svc-name" id="svc"></div>
      <div class="state" id="state"></div>
      <div class="notice ready" id="ready" hidden>${esc(T.get_ready)}</div>
      <div class="checkin" id="checkin" hidden>
        <div class="label">${esc(T.checkin_title)}</div>
        <div class="checkin-code" id="checkin-code"></div>
        <div class="qr" id="checkin-qr"></div>
        <p>${esc(T.checkin_how)}</p>
      </div>
      <p class="checkin-done" id="checkin-done" hidden></p>
      <div class="facts" id="facts">
        <div><div class="label">${esc(T.people_ahead)}</div><div class="num" id="ahead"></div></div>
        <div><div class="label">${esc(T.estimated_call)}</div><div class="num small" id="eta"></div></div>
      </div>
      <div class="notice late" id="late" hidden></div>
      <p class="completion" id="completion"></p>
      <div id="survey-offer"></div>
      <div id="waiting-help">
        <p class="notify-line" id="keep-open">${esc(T.notify_keep_open)}</p>
        <button id="sound-on" class="secondary">${esc(T.notify_tap)}</button>
        <div id="notify-box"></div>
      </div>
      <p class="fine">${esc(T.valid_today)}</p>
    </main>`;
  /* On the office LAN (http) a page may not show system notifications, and sound and
     vibration need a tap first: one tap arms both, for as long as the page stays open. */
  let audio = null;
  const soundBtn = document.getElementById("sound-on");
  function arm() {
    if (audio) return;
    try {
      audio = new (window.AudioContext || window.webkitAudioContext)();
      audio.resume();
    } catch { audio = null; }
    if (navigator.vibrate) navigator.vibrate(1);
  }
  document.addEventListener("pointerdown", arm, { once: true });
  soundBtn.onclick = arm;
  /* The button goes once the tap that armed the sound has done what it was aimed at: hidden at
     pointerdown, the page moved up under the finger and the tap on "Kabari saya" was lost. */
  document.addEventListener("click", () => { if (audio) soundBtn.hidden = true; });

  function beep() {
    if (!audio) return;
    const t0 = audio.currentTime;
    for (let i = 0; i < 3; i++) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.4, t0 + i * 0.45);
      gain.gain.setValueAtTime(0, t0 + i * 0.45 + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + i * 0.45);
      osc.stop(t0 + i * 0.45 + 0.3);
    }
  }

  function alertUser() {
    if (navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 600]);
    beep();
  }

  let formShown = false;

  /* Once the ticket is done: the satisfaction survey, if this ticket has not answered yet.
     Its script and style are loaded only then (most visits never need them). */
  let surveyOffered = false;
  function load(tag, attrs) {
    return new Promise((resolve, reject) => {
      const el = Object.assign(document.createElement(tag), attrs);
      el.onload = resolve;
      el.onerror = reject;
      document.head.appendChild(el);
    });
  }
  async function offerSurvey() {
    surveyOffered = true;
    const box = document.getElementById("survey-offer");
    try {
      await Promise.all([
        load("link", { rel: "stylesheet", href: "/static/survey.css" }),
        load("script", { src: "/static/survey_form.js" }),
      ]);
    } catch { surveyOffered = false; return; }
    const info = await surveyCheck({ token: BOOT.token });
    if (info.status !== "ok") {
      if (info.data && info.data.code === "survey_already") box.innerHTML = `<p class="sv-done" id="survey-done">${esc(info.error)}</p>`;
      return;
    }
    const thanks = () => { box.innerHTML = `<p class="sv-done" id="survey-done">${esc(T.survey_thanks)}</p>`; };
    box.innerHTML = `<div class="sv-invite" id="survey-invite"><p>${esc(T.survey_status_invite)}</p>
      <button class="primary" id="survey-open">${esc(T.survey_status_start)}</button></div>`;
    box.querySelector("#survey-open").onclick = () => {
      surveyForm(box, { token: BOOT.token }, info.data, { onDone: thanks, onCancel: () => { surveyOffered = false; offerSurvey(); } });
    };
  }

  /* A ticket taken from a phone: until its holder checks in, the code (and its QR) that a
     kiosk takes; after, a word that all is well; passed over, what to do now. */
  let checkinShown = null;
  async function showCheckin(v) {
    const box = document.getElementById("checkin");
    const done = document.getElementById("checkin-done");
    const pending = v.remote && !v.checked_in && v.state === "waiting";
    box.hidden = !pending;
    done.hidden = !v.remote || pending || !["waiting", "skipped"].includes(v.state);
    done.textContent = v.state === "skipped" && !v.checked_in ? T.checkin_missed : T.checkin_done;
    if (!pending || checkinShown === v.check_in_code) return;
    checkinShown = v.check_in_code;
    document.getElementById("checkin-code").textContent = v.check_in_code;
    try {
      const r = await fetch(`/api/ambil/checkin/${encodeURIComponent(BOOT.token)}`, { credentials: "same-origin" });
      const body = await r.json();
      if (body.status === "ok" && body.data.qr) document.getElementById("checkin-qr").innerHTML = body.data.qr;
    } catch { checkinShown = null; /* the code itself is on the screen; the QR comes next time */ }
  }

  function render(v) {
    const card = document.getElementById("card");
    if (v.gone) {
      card.className = "status-card state-expired";
      document.getElementById("state").textContent = T.state_expired;
      document.getElementById("facts").hidden = true;
      document.getElementById("ready").hidden = true;
      document.getElementById("waiting-help").hidden = true;
      return;
    }
    card.className = `status-card state-${v.state}`;
    showCheckin(v);
    document.getElementById("office").textContent = v.office;
    document.getElementById("ticket").textContent = v.ticket;
    document.getElementById("prio").hidden = !v.priority;
    document.getElementById("svc").textContent = `${v.service} · ${v.service_name}`;
    document.getElementById("completion").textContent = v.completion ? `${T.completion}: ${v.completion}` : "";
    const waiting = v.state === "waiting";
    document.getElementById("facts").hidden = !waiting;
    document.getElementById("ahead").textContent = v.ahead;
    document.getElementById("eta").textContent = callText(v, v.tz_label);
    const late = document.getElementById("late");
    late.textContent = lateText(v);
    late.hidden = !waiting || !late.textContent;
    const ready = waiting && v.get_ready;
    document.getElementById("ready").hidden = !ready;
    if (ready && !notified.ready) { notified.ready = true; alertUser(); }
    // waiting: how to be told; once called or done, nothing more to sign up for
    document.getElementById("waiting-help").hidden = !waiting;
    if (waiting && !formShown) { formShown = true; notifyForm(document.getElementById("notify-box"), BOOT.token); }
    const stateText = {
      waiting: T.state_waiting,
      called: fmt(T.state_called, { counter: v.counter_name || "" }),
      done: T.state_done, skipped: T.state_skipped, expired: T.state_expired,
    }[v.state] || v.state;
    document.getElementById("state").textContent = stateText;
    if (v.state === "called" && !notified.called) { notified.called = true; alertUser(); }
    if (v.state === "done" && !surveyOffered) offerSurvey();
    if (v.state !== "called") notified.called = false;
  }
  live(`/events/ticket/${encodeURIComponent(BOOT.token)}`, { state: render });
})();
