/* Waiting-room screen: the latest call huge, recent calls, every counter, every service. */
"use strict";
(function () {
  const app = document.getElementById("app");
  const params = new URLSearchParams(location.search);
  let tz = "Asia/Jakarta";
  let tzLabel = "WIB";
  let soundOn = params.get("sound") === "1";
  const audioQueue = [];
  let playing = false;

  app.innerHTML = `
    <header class="tv-head">
      <div><div class="office" id="office"></div><div class="date" id="date"></div></div>
      <div class="tv-tools">
        <button id="sound" class="ghost">${esc(T.sound_on)}</button>
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
    <section class="counters" id="counters"></section>
    <footer class="services" id="services"></footer>`;

  document.getElementById("full").onclick = () => document.documentElement.requestFullscreen?.();
  const soundBtn = document.getElementById("sound");
  soundBtn.onclick = () => { soundOn = true; soundBtn.hidden = true; };
  if (soundOn) soundBtn.hidden = true;

  function playNext() {
    if (playing || !audioQueue.length) return;
    playing = true;
    const audio = new Audio(audioQueue.shift());
    const done = () => { playing = false; playNext(); };
    audio.addEventListener("ended", done);
    audio.addEventListener("error", done);
    audio.play().catch(done);
  }

  function tick() {
    document.getElementById("clock").textContent = officeClock(tz, false);
    document.getElementById("date").textContent = officeDate(tz);
  }
  setInterval(tick, 1000);

  function render(s) {
    tz = s.timezone; tzLabel = s.tz_label;
    document.getElementById("office").textContent = s.office;
    document.getElementById("tz").textContent = tzLabel;
    tick();
    soundBtn.hidden = soundBtn.hidden || !s.audio;
    audioOk = s.audio;
    const top = s.recent[0];
    if (top && !heroBusy) showHero(top);
    document.getElementById("recent").innerHTML = s.recent.slice(1, 7).map((c) =>
      `<li><span class="t">${esc(c.ticket)}</span><span class="c">${esc(c.counter_name)}</span></li>`).join("");
    document.getElementById("counters").innerHTML = s.counters.map((c) => `
      <div class="counter-card status-${esc(c.status)}" data-counter="${c.counter}">
        <div class="name">${esc(c.name)}</div>
        <div class="serving">${c.status === "open" ? esc(c.serving || "—") : esc(statusText(c))}</div>
      </div>`).join("");
    document.getElementById("services").innerHTML = s.services.map((v) => `
      <div class="svc status-${esc(v.status)}" data-service="${esc(v.service)}">
        <div class="letter">${esc(v.service)}</div>
        <div class="body"><div class="name">${esc(v.name)}</div>
          <div class="meta">${v.status !== "open" ? esc(T.paused) : v.closed_today
            ? `<b class="waiting">${v.waiting}</b> ${esc(T.waiting)} · <span class="late">${
              esc(v.late_tickets === "refuse" ? T.closed_today : T.not_today)}</span>`
            : `<b class="waiting">${v.waiting}</b> ${esc(T.waiting)} · ${esc(callText(v))}`}</div></div>
      </div>`).join("");
  }

  // Each call arrives as its own event, in the order the hub made them: two pads calling in
  // the same moment are two calls here, each flashed and (with sound on) spoken in turn.
  const calls = [];
  let heroBusy = false;
  let audioOk = false;

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
    if (soundOn && audioOk) {
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

  live("/events/public", { state: render, call: onCall });
})();
