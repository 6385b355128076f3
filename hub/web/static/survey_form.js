/* The survey's questions (SKM, PermenPANRB 14/2017), shared by the exit tablet (survey.js) and
   the citizen's status page (status.js): one screen per element with four big answers, each a
   drawn face and a word (older citizens read the face first), one tap and the next question;
   then the optional "about you", then the answer is sent. `info` is what
   /api/survey/check answered (the elements and the respondent's categories). */
"use strict";

/* A face for an answer 1-4, drawn (no emoji font needed on an old tablet). */
function surveyFace(score) {
  const mouths = {
    1: "M30 72 Q50 52 70 72", 2: "M32 68 Q50 62 68 68",
    3: "M32 62 Q50 72 68 62", 4: "M28 58 Q50 84 72 58",
  };
  return `<svg class="sv-face" viewBox="0 0 100 100" aria-hidden="true">
    <circle cx="50" cy="50" r="46" class="sv-face-bg"/>
    <circle cx="35" cy="40" r="6"/><circle cx="65" cy="40" r="6"/>
    <path d="${mouths[score]}" fill="none" stroke-width="7" stroke-linecap="round"/></svg>`;
}

function surveyForm(box, who, info, opts) {
  const elements = info.elements;
  const scores = {};
  const respondent = {};
  let step = 0;
  let sending = false;

  function touched() { if (opts.onActivity) opts.onActivity(); }

  function question() {
    const key = elements[step];
    const name = T[`survey_el_${key.toLowerCase()}`];
    const ask = T[`survey_q_${key.toLowerCase()}`];
    const answers = [1, 2, 3, 4].map((v) => {
      const word = T[`survey_score_${v}`];
      const chosen = scores[key] === v ? "chosen" : "";
      return `<button type="button" class="sv-answer sv-a${v} ${chosen}" data-score="${v}"
        aria-label="${esc(word)}">${surveyFace(v)}<span class="sv-word">${esc(word)}</span></button>`;
    }).join("");
    box.innerHTML = `
      <section class="sv-card" id="survey-question" data-element="${esc(key)}">
        <div class="sv-progress">${esc(fmt(T.survey_step, { n: step + 1, total: elements.length }))}</div>
        <h2 class="sv-element">${esc(name)}</h2>
        <p class="sv-question">${esc(ask)}</p>
        <div class="sv-answers">${answers}</div>
        <div class="sv-nav"><button type="button" class="secondary" id="survey-back">${esc(step ? T.survey_back : T.survey_cancel)}</button></div>
      </section>`;
    for (const b of box.querySelectorAll(".sv-answer")) {
      b.onclick = () => { touched(); scores[key] = Number(b.dataset.score); step += 1; draw(); };
    }
    box.querySelector("#survey-back").onclick = () => {
      touched();
      if (step) { step -= 1; draw(); } else if (opts.onCancel) opts.onCancel();
    };
  }

  function aboutYou() {
    const groups = Object.entries(info.respondent).map(([field, values]) => {
      const chips = values.map((v) => {
        const chosen = respondent[field] === v ? "chosen" : "";
        const word = T[`survey_${field}_${v}`];
        return `<button type="button" class="sv-chip ${chosen}" data-value="${esc(v)}">${esc(word)}</button>`;
      }).join("");
      const legend = T[`survey_${field}`];
      return `<fieldset class="sv-group" data-field="${esc(field)}"><legend>${esc(legend)}</legend>${chips}</fieldset>`;
    }).join("");
    box.innerHTML = `
      <section class="sv-card" id="survey-about">
        <h2 class="sv-element">${esc(T.survey_about_you)}</h2>
        ${groups}
        <p class="error" id="survey-error" hidden></p>
        <div class="sv-nav">
          <button type="button" class="secondary" id="survey-back">${esc(T.survey_back)}</button>
          <button type="button" class="primary sv-send" id="survey-send">${esc(T.survey_send)}</button>
        </div>
      </section>`;
    for (const g of box.querySelectorAll(".sv-group")) {
      for (const c of g.querySelectorAll(".sv-chip")) {
        c.onclick = () => {
          touched();
          const field = g.dataset.field;
          respondent[field] = respondent[field] === c.dataset.value ? "" : c.dataset.value;
          for (const o of g.querySelectorAll(".sv-chip")) o.classList.toggle("chosen", respondent[field] === o.dataset.value);
        };
      }
    }
    box.querySelector("#survey-back").onclick = () => { touched(); step -= 1; draw(); };
    box.querySelector("#survey-send").onclick = send;
  }

  async function send() {
    if (sending) return;
    sending = true;
    touched();
    const r = await post("/api/survey", { ...who, scores, respondent, lang: LANG });
    sending = false;
    if (r.status === "ok") { opts.onDone(r.data); return; }
    const error = box.querySelector("#survey-error");
    error.textContent = r.error || "";
    error.hidden = false;
    if (opts.onRefused) opts.onRefused(r);
  }

  function draw() { if (step < elements.length) question(); else aboutYou(); }
  draw();
}

/* Whether `who` ({token} or {ticket}) may answer now: the check's answer (status "ok" with
   the ticket, the elements and the categories, or an error with its text). */
async function surveyCheck(who) {
  const q = new URLSearchParams({ ...who, lang: LANG });
  try {
    const r = await fetch(`/api/survey/check?${q}`, { credentials: "same-origin" });
    return await r.json();
  } catch {
    return { status: "error", error: T.offline };
  }
}
