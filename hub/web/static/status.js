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
      <button id="notify" class="primary">${esc(T.notify_me)}</button>
      <p class="fine">${esc(T.valid_today)}</p>
    </main>`;
  const notifyBtn = document.getElementById("notify");
  if (!("Notification" in window) || Notification.permission !== "default") notifyBtn.hidden = true;
  notifyBtn.onclick = () => Notification.requestPermission().then(() => { notifyBtn.hidden = true; });

  function alertUser(text) {
    if (navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 600]);
    if ("Notification" in window && Notification.permission === "granted") {
      try { new Notification(text); } catch { /* some browsers only allow it from a worker */ }
    }
  }

  function render(v) {
    const card = document.getElementById("card");
    if (v.gone) {
      card.className = "status-card state-expired";
      document.getElementById("state").textContent = T.state_expired;
      document.getElementById("facts").hidden = true;
      document.getElementById("ready").hidden = true;
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
    if (ready && !notified.ready) { notified.ready = true; alertUser(`${v.ticket}: ${T.get_ready}`); }
    const stateText = {
      waiting: T.state_waiting,
      called: fmt(T.state_called, { counter: v.counter_name || "" }),
      done: T.state_done, skipped: T.state_skipped, expired: T.state_expired,
    }[v.state] || v.state;
    document.getElementById("state").textContent = stateText;
    if (v.state === "called" && !notified.called) { notified.called = true; alertUser(`${v.ticket}: ${stateText}`); }
    if (v.state !== "called") notified.called = false;
  }
  live(`/events/ticket/${encodeURIComponent(BOOT.token)}`, { state: render });
})();
