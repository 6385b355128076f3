/* The report page (/admin/reports): a period picker, the summary, charts and tables of the
   period, and the report as PDF, CSV or XLSX. Everything shown comes from
   /api/admin/report, computed by the hub from its event log. */
"use strict";

(function () {
  const app = document.getElementById("app");
  const today = BOOT.today;
  const other = LANG === "en" ? "id" : "en";

  function isoWeek(day) {
    const d = new Date(day + "T00:00:00Z");
    const weekday = (d.getUTCDay() + 6) % 7;
    d.setUTCDate(d.getUTCDate() - weekday + 3); // the Thursday of its week names the week
    const year = d.getUTCFullYear();
    const first = new Date(Date.UTC(year, 0, 4));
    const week = 1 + Math.round(((d - first) / 86400000 - 3 + ((first.getUTCDay() + 6) % 7)) / 7);
    return `${year}-W${String(week).padStart(2, "0")}`;
  }

  const defaults = { day: today, week: isoWeek(today), month: today.slice(0, 7), range: today.slice(0, 8) + "01" };
  const kindText = {
    day: T.report_kind_day, week: T.report_kind_week, month: T.report_kind_month, range: T.report_kind_range,
  };
  const inputType = { day: "date", week: "week", month: "month", range: "date" };

  app.innerHTML = `
    <nav class="top"><a href="/admin?lang=${LANG}" id="report-back">${esc(T.report_back)}</a>
      <a href="?lang=${other}" class="lang">${esc(T.language)}</a></nav>
    <main class="card report">
      <h1>${esc(T.report_title)} · ${esc(BOOT.office)}</h1>
      <form id="report-form" class="report-form">
        <label>${esc(T.report_kind)}
          <select id="report-kind">${BOOT.kinds.map((k) =>
            `<option value="${k}"${k === "month" ? " selected" : ""}>${esc(kindText[k])}</option>`).join("")}
          </select></label>
        <label>${esc(T.report_value)} <input id="report-value" required></label>
        <label id="report-until-label" hidden>${esc(T.report_until)} <input id="report-until" type="date"></label>
        <button class="primary" id="report-show">${esc(T.report_show)}</button>
      </form>
      <p id="report-status" role="status"></p>
      <p class="downloads">${esc(T.report_download)}:
        <a id="download-pdf" class="button">${esc(T.report_pdf)}</a>
        <a id="download-csv" class="button">${esc(T.report_csv)}</a>
        <a id="download-xlsx" class="button">${esc(T.report_xlsx)}</a></p>
      <h2 id="report-period"></h2>
      <div id="report-summary"></div>
      <div id="report-charts" class="report-charts"></div>
      <div id="report-tables"></div>
    </main>`;

  const kind = document.getElementById("report-kind");
  const value = document.getElementById("report-value");
  const until = document.getElementById("report-until");
  const untilLabel = document.getElementById("report-until-label");
  const status = document.getElementById("report-status");

  function setKind() {
    value.type = inputType[kind.value];
    value.value = defaults[kind.value];
    untilLabel.hidden = kind.value !== "range";
    until.value = today;
  }

  function query() {
    const q = new URLSearchParams({ kind: kind.value, value: value.value, lang: LANG });
    if (kind.value === "range") q.set("until", until.value);
    return q;
  }

  function tableHtml(table) {
    const head = table.columns.map((c) => `<th>${esc(c)}</th>`).join("");
    const body = table.rows.map((row) => "<tr>" + row.map((v, i) =>
      `<td class="${table.kinds[i] === "text" ? "" : "n"}">${esc(v)}</td>`).join("") + "</tr>").join("");
    const note = table.footnote ? `<p class="note">${esc(table.footnote)}</p>` : "";
    return `<section class="report-table" id="table-${esc(table.key)}"><h3>${esc(table.title)}</h3>
      <div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>${note}</section>`;
  }

  async function show() {
    const q = query();
    for (const fmtName of ["pdf", "csv", "xlsx"]) {
      const d = new URLSearchParams(q);
      d.set("format", fmtName);
      document.getElementById(`download-${fmtName}`).href = `/admin/reports/download?${d}`;
    }
    status.textContent = T.report_loading;
    status.className = "";
    let r;
    try {
      r = await fetch(`/api/admin/report?${q}`, { credentials: "same-origin" });
    } catch (err) {
      status.textContent = T.offline;
      return;
    }
    if (!r.ok) {
      status.textContent = fmt(T.report_failed, { error: (await r.text()).slice(0, 300) });
      status.className = "error";
      return;
    }
    const data = (await r.json()).data;
    status.textContent = "";
    document.getElementById("report-period").textContent = fmt(T.report_period, { period: data.period });
    const [summary, ...rest] = data.tables;
    document.getElementById("report-summary").innerHTML = tableHtml(summary);
    /* the charts are the hub's own SVG (labels escaped there), as on the admin dashboard */
    document.getElementById("report-charts").innerHTML =
      `<figure><figcaption>${esc(T.report_chart_days)}</figcaption>${data.charts.days}</figure>` +
      `<figure><figcaption>${esc(T.report_chart_hours)}</figcaption>${data.charts.hours}</figure>` +
      `<figure><figcaption>${esc(T.report_chart_wait)}</figcaption>${data.charts.wait}</figure>`;
    document.getElementById("report-tables").innerHTML = rest.map(tableHtml).join("");
  }

  kind.addEventListener("change", setKind);
  document.getElementById("report-form").addEventListener("submit", (e) => {
    e.preventDefault();
    show();
  });
  setKind();
  show();
})();
