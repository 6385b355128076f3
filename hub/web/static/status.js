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
      <div class="facts" id="facts">
        <div><div class="label">${esc(T.people_ahead)}</div><div class="num" id="ahead"></div></div>
        <div><div class="label">${esc(T.estimated_call)}</div><div class="num small" id="eta"></div></div>
      </div>
      <div class="notice late" id="late" hidden></div>
      <p class="completion" id="completion"></p>
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
    soundBtn.hidden = true;
  }
  document.addEventListener("pointerdown", arm, { once: true });
  soundBtn.onclick = arm;

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
    if (v.state !== "called") notified.called = false;
  }
  live(`/events/ticket/${encodeURIComponent(BOOT.token)}`, { state: render });
})();
