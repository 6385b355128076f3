/* The admin's survey results (IKM): a period and a service, the index with its grade, the
   regulation's recap table (per element NRR and NRR tertimbang, the total, the IKM, mutu
   pelayanan, kinerja unit) and the respondents' optional categories. */
"use strict";
(function () {
  const app = document.getElementById("app");
  const today = BOOT.today;
  const services = BOOT.services.map((s) => `<option value="${esc(s.letter)}">${esc(s.letter)} · ${esc(s.name)}</option>`).join("");
  app.innerHTML = `
    <main class="sv-admin">
      <div class="links"><a href="/admin?lang=${esc(LANG)}">${esc(T.survey_back_admin)}</a>
        <a href="/survey?lang=${esc(LANG)}" target="_blank">${esc(T.survey_tablet_link)}</a></div>
      <h1>${esc(T.survey_admin_title)}</h1>
      <form id="survey-period">
        <label>${esc(T.survey_from)}<input type="date" id="survey-from" value="${esc(today.slice(0, 8))}01"></label>
        <label>${esc(T.survey_to)}<input type="date" id="survey-to" value="${esc(today)}"></label>
        <label>${esc(T.survey_service)}<select id="survey-service"><option value="">${esc(T.survey_all_services)}</option>${services}</select></label>
        <button class="primary" id="survey-show">${esc(T.survey_show)}</button>
      </form>
      <p class="error" id="survey-error" hidden></p>
      <div class="sv-summary">
        <div><div class="label">${esc(T.survey_responses)}</div><div class="big" id="survey-responses"></div></div>
        <div><div class="label">${esc(T.survey_ikm)}</div><div class="big" id="survey-ikm"></div></div>
        <div><div class="label">${esc(T.survey_row_grade)}</div><div class="big" id="survey-grade"></div></div>
        <div><div class="label">${esc(T.survey_row_label)}</div><div class="big" id="survey-label"></div></div>
      </div>
      <p id="survey-empty" hidden>${esc(T.survey_no_answers)}</p>
      <table id="survey-recap"><caption id="survey-title"></caption><thead></thead><tbody></tbody></table>
      <h2>${esc(T.survey_respondents_title)}</h2>
      <div id="survey-respondents"></div>
    </main>`;

  /* A row of the recap table; the figures (from the third column) align right. */
  function headCells(row) { return row.map((c) => `<th>${esc(c)}</th>`).join(""); }
  function bodyCells(row) { return row.map((c, i) => `<td class="${i >= 2 ? "n" : ""}">${esc(c)}</td>`).join(""); }

  async function show() {
    const q = new URLSearchParams({
      from: document.getElementById("survey-from").value,
      to: document.getElementById("survey-to").value,
      service: document.getElementById("survey-service").value,
      lang: LANG,
    });
    const error = document.getElementById("survey-error");
    let data;
    try {
      const r = await fetch(`/api/admin/survey?${q}`, { credentials: "same-origin" });
      if (!r.ok) throw new Error(fmt(T.http_error, { status: r.status }));
      data = (await r.json()).data;
    } catch (err) {
      error.textContent = fmt(T.survey_load_failed, { error: err.message });
      error.hidden = false;
      return;
    }
    error.hidden = true;
    document.getElementById("survey-responses").textContent = data.responses;
    document.getElementById("survey-ikm").textContent = data.ikm === null ? "-" : data.recap.rows[data.recap.rows.length - 3][3];
    document.getElementById("survey-grade").textContent = data.grade || "-";
    document.getElementById("survey-label").textContent = data.label || "-";
    document.getElementById("survey-empty").hidden = data.responses > 0;
    const [head, ...rows] = data.recap.rows;
    document.getElementById("survey-title").textContent = data.recap.title;
    document.querySelector("#survey-recap thead").innerHTML = `<tr>${headCells(head)}</tr>`;
    document.querySelector("#survey-recap tbody").innerHTML = rows.map((r) => `<tr>${bodyCells(r)}</tr>`).join("");
    document.getElementById("survey-respondents").innerHTML = Object.entries(data.respondents).map(([field, counts]) => {
      const rowsOf = Object.entries(counts).map(([v, n]) => {
        const word = v ? T[`survey_${field}_${v}`] || v : T.survey_not_given;
        return `<tr><td>${esc(word)}</td><td class="n">${esc(n)}</td></tr>`;
      }).join("");
      const caption = T[`survey_${field}`];
      return `<table class="sv-respondents" data-field="${esc(field)}"><caption>${esc(caption)}</caption><tbody>${rowsOf}</tbody></table>`;
    }).join("");
  }

  document.getElementById("survey-period").onsubmit = (ev) => { ev.preventDefault(); show(); };
  show();
})();
