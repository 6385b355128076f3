/* The exit tablet's survey (SKM): the citizen taps their number among the tickets just finished
   (or types it), answers one tap per element, sees thanks, and the page is ready for the next
   citizen a few seconds later. A citizen who walks away midway leaves nothing behind: after a
   minute without a tap the page starts over. */
"use strict";
(function () {
  const THANKS_SECONDS = 6;
  const IDLE_MS = 60000;
  const RECENT_MS = 10000;
  const app = document.getElementById("app");
  let idle = null;
  let recentTimer = null;
  let countdown = null;

  function activity() {
    clearTimeout(idle);
    idle = setTimeout(start, IDLE_MS);
  }

  function start() {
    clearTimeout(idle);
    clearInterval(countdown);
    app.innerHTML = `
      <main class="sv-tablet" id="survey-start">
        <h1 class="sv-title">${esc(T.survey_title)}</h1>
        <p class="sv-intro">${esc(T.survey_intro)}</p>
        <h2 class="sv-pick">${esc(T.survey_pick)}</h2>
        <div class="sv-recent" id="survey-recent"></div>
        <form class="sv-type" id="survey-type">
          <label for="survey-ticket">${esc(T.survey_type)}</label>
          <div class="sv-type-row">
            <input id="survey-ticket" maxlength="8" autocomplete="off" autocapitalize="characters"
              placeholder="${esc(T.survey_placeholder)}">
            <button class="primary" id="survey-go">${esc(T.survey_start)}</button>
          </div>
        </form>
        <p class="error sv-error" id="survey-error" hidden></p>
      </main>`;
    document.getElementById("survey-type").onsubmit = (ev) => {
      ev.preventDefault();
      const typed = document.getElementById("survey-ticket").value.trim();
      if (typed) begin(typed);
    };
    loadRecent();
  }

  async function loadRecent() {
    clearTimeout(recentTimer);
    const box = document.getElementById("survey-recent");
    if (!box) return;
    try {
      const r = await fetch("/api/survey/recent", { credentials: "same-origin" });
      const tickets = (await r.json()).data.tickets;
      document.getElementById("offline").hidden = true;
      box.innerHTML = tickets.length
        ? tickets.map((x) => `<button type="button" class="sv-ticket" data-ticket="${esc(x.ticket)}">${esc(x.ticket)}</button>`).join("")
        : `<p class="sv-none" id="survey-none">${esc(T.survey_none_recent)}</p>`;
      for (const b of box.querySelectorAll(".sv-ticket")) b.onclick = () => begin(b.dataset.ticket);
    } catch {
      document.getElementById("offline").hidden = false;
    }
    recentTimer = setTimeout(loadRecent, RECENT_MS);
  }

  async function begin(ticket) {
    clearTimeout(recentTimer);
    const info = await surveyCheck({ ticket });
    if (info.status !== "ok") {
      const error = document.getElementById("survey-error");
      if (error) { error.textContent = info.error || ""; error.hidden = false; }
      loadRecent();
      return;
    }
    app.innerHTML = `<main class="sv-tablet"><div class="sv-who" id="survey-who">${esc(info.data.ticket)} · ${esc(info.data.service_name)}</div><div id="survey-box"></div></main>`;
    activity();
    surveyForm(document.getElementById("survey-box"), { ticket: info.data.ticket }, info.data, {
      onActivity: activity,
      onCancel: start,
      onDone: thanks,
    });
  }

  function thanks() {
    clearTimeout(idle);
    let left = THANKS_SECONDS;
    app.innerHTML = `
      <main class="sv-tablet sv-thanks" id="survey-thanks">
        ${surveyFace(4)}
        <h1>${esc(T.survey_thanks)}</h1>
        <p>${esc(T.survey_thanks_more)}</p>
        <p class="sv-reset" id="survey-reset">${esc(fmt(T.survey_reset_in, { n: left }))}</p>
      </main>`;
    countdown = setInterval(() => {
      left -= 1;
      if (left <= 0) { start(); return; }
      document.getElementById("survey-reset").textContent = fmt(T.survey_reset_in, { n: left });
    }, 1000);
  }

  start();
})();
