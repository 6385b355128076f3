/* Waiting-room screen: the latest call huge, recent calls, every counter, every service.
   Everything a citizen reads is sized in vh (at least 1/30 of the screen's height: readable
   from the back of the room), and the layout keeps to one screen at any 16:9 size. */
"use strict";
(function () {
  const app = document.getElementById("app");
  const params = new URLSearchParams(location.search);
  let tz = "Asia/Jakarta";
  let tzLabel = "WIB";
  // `?sound=0` silences this one screen (a second TV in the same room)
  const muted = params.get("sound") === "0";
  const audioQueue = [];
  let playing = false;

  app.innerHTML = `
    <header class="tv-head">
      <div><div class="office" id="office"></div><div class="date" id="date"></div></div>
      <div class="tv-tools">
        <button id="full" class="ghost">${esc(T.fullscreen)}</button>
      </div>
      <div class="clock"><span id="clock"></span> <small id="tz"></small></div>
    </header>
    <main class="tv-main">
      <section class="hero" id="hero">
        <div class="label">${esc(T.now_serving)}</div>
        <div class="hero-ticket" id="hero-ticket">—</div>
        <div class="hero-counter" id="hero-counter">${esc(T.no_call_yet)}</div>
      </section>
      <section class="recent">
        <h2>${esc(T.recent_calls)}</h2>
        <ol id="recent"></ol>
      </section>
    </main>
    <section class="closed-notice" id="closed-notice" role="status" hidden></section>
    <section class="counters" id="counters"></section>
    <footer class="services" id="services"></footer>
    <div class="ticker" id="ticker" hidden><span id="ticker-text"></span></div>
    <div class="sound-blocked" id="sound-blocked" role="alert" hidden>${esc(T.sound_blocked)}</div>`;

  document.getElementById("full").onclick = () => document.documentElement.requestFullscreen?.();

  /* Sound. The TV speaks when the hub says so (`[web] tv_voice`, and the hub has the clips).
     A browser started without `--autoplay-policy=no-user-gesture-required` keeps audio
     suspended until someone touches the page: after every reboot of the TV stick the calls
     would be silent, and nobody would know. So the page checks, and says so in large letters
     until a tap turns the sound on. */
  let voice = false;
  let audioCtx = null;
  const blocked = document.getElementById("sound-blocked");

  function showBlocked(on) {
    blocked.hidden = !on;
    document.body.classList.toggle("sound-off", on);
  }

  function checkAudio() {
    if (!voice) { showBlocked(false); return; }
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    if (!audioCtx) {
      audioCtx = new Ctx();
      audioCtx.onstatechange = () => showBlocked(voice && audioCtx.state === "suspended");
    }
    showBlocked(audioCtx.state === "suspended");
  }

  function unlock() {
    if (audioCtx && audioCtx.state === "suspended") audioCtx.resume();
    // a silent play() inside the tap lets later play() calls through in every browser
    const a = new Audio();
    a.muted = true;
    a.play().catch(() => {});
    showBlocked(false);
    playing = false;
    playNext();
  }
  document.addEventListener("pointerdown", () => { if (!blocked.hidden) unlock(); });
  document.addEventListener("keydown", () => { if (!blocked.hidden) unlock(); });

  function playNext() {
    if (playing || !audioQueue.length || !blocked.hidden) return;
    playing = true;
    const url = audioQueue[0];
    const audio = new Audio(url);
    const done = () => { audioQueue.shift(); playing = false; playNext(); };
    audio.addEventListener("ended", done);
    audio.addEventListener("error", done);
    audio.play().catch((err) => {
      if (err && err.name === "NotAllowedError") {  // blocked: keep the call for after the tap
        playing = false;
        showBlocked(true);
      } else {
        done();
      }
    });
  }

  function tick() {
    document.getElementById("clock").textContent = officeClock(tz, false);
    document.getElementById("date").textContent = officeDate(tz);
  }
  setInterval(tick, 1000);

  /* The recent calls, one row per ticket: a recall is the same citizen called again, not a
     new one, so it moves the ticket's row to the top and marks it instead of repeating it. */
  function recentRows(recent) {
    const seen = new Set();
    const rows = [];
    for (const c of recent) {
      if (seen.has(c.ticket)) continue;
      seen.add(c.ticket);
      rows.push(c);
    }
    return rows;
  }

  let tickerText = null;
  function drawTicker(text) {
    if (text === tickerText) return;
    tickerText = text;
    const box = document.getElementById("ticker");
    const span = document.getElementById("ticker-text");
    box.hidden = !text;
    span.textContent = text || "";
    // the same speed for any length: about 12 characters a second, from the right edge
    span.style.animationDuration = `${Math.max(12, (text || "").length / 12 + 10)}s`;
    span.classList.remove("run");
    void span.offsetWidth;
    span.classList.add("run");
  }

  let shut = false;
  /* A closed office: one notice across the screen ("Kantor tutup — buka lagi Senin, 1 Desember
     pukul 07.30", the holiday's name above it) in place of the calls and the counters, which
     would only show an empty queue; the services stay (tickets taken early wait there). */
  function drawOffice(s) {
    const closed = officeClosed(s.office_state, s.timezone);
    shut = Boolean(closed);
    const box = document.getElementById("closed-notice");
    box.hidden = !closed;
    document.querySelector(".tv-main").hidden = Boolean(closed);
    document.getElementById("counters").hidden = Boolean(closed);
    box.innerHTML = closed ? `${closed.holiday ? `<div class="holiday" id="closed-holiday">${esc(closed.holiday)}</div>` : ""}
      <div class="headline" id="closed-headline">${esc(closed.headline)}</div>
      <div class="opens" id="closed-opens">${esc(closed.opens)}</div>` : "";
  }

  function render(s) {
    tz = s.timezone; tzLabel = s.tz_label;
    drawOffice(s);
    document.getElementById("office").textContent = s.office;
    document.getElementById("tz").textContent = tzLabel;
    tick();
    const wasVoice = voice;
    voice = Boolean(s.tv_voice && s.audio && !muted);
    if (voice !== wasVoice) checkAudio();
    const rows = recentRows(s.recent);
    const top = rows[0];
    if (top && !heroBusy) showHero(top);
    document.getElementById("recent").innerHTML = rows.slice(1, 6).map((c) =>
      `<li data-ticket="${esc(c.ticket)}"${c.recalls ? ' class="recalled"' : ""}><span class="t">${esc(c.ticket)}</span>${
        c.recalls ? `<span class="again">${esc(T.recalled)}</span>` : ""}<span class="c">${esc(c.counter_name)}</span></li>`).join("");
    document.getElementById("counters").innerHTML = s.counters.map((c) => `
      <div class="counter-card status-${esc(c.status)}" data-counter="${c.counter}">
        <div class="name">${esc(c.name)}</div>
        <div class="serving">${c.status === "open" ? esc(c.serving || "—") : esc(statusText(c))}</div>
      </div>`).join("");
    const services = document.getElementById("services");
    services.classList.toggle("two", s.services.length > 6);
    services.innerHTML = s.services.map((v) => {
      const quota = quotaText(v);
      const left = quota.text && !quota.full ? `<span class="quota">${esc(quota.text)}</span>` : "";
      const few = left ? `${left} · ` : "";
      return `
      <div class="svc status-${esc(v.status)}${quota.full ? " quota-full" : ""}" data-service="${esc(v.service)}">
        <div class="letter">${esc(v.service)}</div>
        <div class="name">${esc(v.name)}</div>
        ${v.status !== "open" ? `<div class="meta">${quota.full ? `<span class="quota late">${esc(quota.text)}</span>`
          : esc(T.paused)}</div>` : `
        <div class="count"><b class="waiting">${v.waiting}</b> ${esc(T.waiting)}</div>
        <div class="meta">${quota.full ? `<span class="quota late">${esc(quota.text)}</span>`
          : shut ? left : v.closed_today ? `${few}<span class="late">${
          esc(v.late_tickets === "refuse" ? T.closed_today : T.not_today)}</span>` : few + esc(callText(v))}</div>`}
      </div>`;
    }).join("");
    drawTicker(s.running_text || "");
  }

  // Each call arrives as its own event, in the order the hub made them: two pads calling in
  // the same moment are two calls here, each flashed and (with sound on) spoken in turn.
  const calls = [];
  let heroBusy = false;

  function showHero(c) {
    document.getElementById("hero-ticket").textContent = c.ticket;
    document.getElementById("hero-counter").textContent = c.counter_name;
  }

  function nextCall() {
    if (heroBusy || !calls.length) return;
    const c = calls.shift();
    heroBusy = true;
    showHero(c);
    const hero = document.getElementById("hero");
    hero.classList.remove("flash");
    void hero.offsetWidth;
    hero.classList.add("flash");
    if (voice) {
      audioQueue.push(`/audio/call.wav?ticket=${encodeURIComponent(c.ticket)}&counter=${c.counter}`);
      playNext();
    }
    // each call stays in front long enough to be read before the next one takes its place
    setTimeout(() => { heroBusy = false; nextCall(); }, calls.length ? 2500 : 0);
  }

  function onCall(c) {
    calls.push(c);
    nextCall();
  }

  // A call the speakers could not play: flashed again, so the citizen may still see it.
  live("/events/public", { state: render, call: onCall, missed: onCall });
})();
