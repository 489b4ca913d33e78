// The statistics view: the annual report's five figures for a period, monthly trends, one row per unit,
// and review and re-review outcomes, drawn with Apache ECharts (only the parts used are bundled).
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { ExportFormat, type GetStatisticsResponse } from "./gen/oneledger/ledger/v2/ledger_pb";
import { t } from "./i18n";
import { addDays, beijingToday, dateOf, download, iso, ledger, unitName } from "./main";

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export async function renderStatistics(main: HTMLElement): Promise<void> {
  const today = beijingToday();
  const from = addDays({ ...today, year: today.year - 1 }, 1);
  main.innerHTML = `<form class="filters" id="period">
      <label>${t("from")}<input type="date" name="from" value="${iso(from)}"></label>
      <label>${t("to")}<input type="date" name="to" value="${iso(today)}"></label>
      <button type="submit">${t("search")}</button>
      <button type="button" id="xlsx" data-testid="export-stats">${t("export_xlsx")}</button></form>
    <div id="stats">${t("loading")}</div>`;
  const form = main.querySelector<HTMLFormElement>("#period")!;
  const period = () => {
    const v = new FormData(form);
    return { fromDate: dateOf(String(v.get("from"))), toDate: dateOf(String(v.get("to"))) };
  };
  const draw = async () => draw_(main.querySelector<HTMLElement>("#stats")!, await ledger.getStatistics(period()));
  form.onsubmit = (ev) => { ev.preventDefault(); void draw(); };
  main.querySelector<HTMLButtonElement>("#xlsx")!.onclick = async () => {
    const file = await ledger.exportLedger({ format: ExportFormat.XLSX, what: { case: "statistics", value: period() } });
    download(file.fileName, file.contentType, file.content);
  };
  await draw();
}

function draw_(out: HTMLElement, s: GetStatisticsResponse): void {
  const f = s.figures!;
  const five: [string, bigint][] = [["warnings", f.warningsIssued], ["orders_issued", f.supervisionOrdersIssued],
    ["resolution_reports", f.resolutionReports], ["collective", f.collectiveMattersAssigned], ["priority", f.priorityMattersAssigned]];
  out.innerHTML = `<div class="cards" data-testid="five">${five.map(([k, n]) => `<div class="card">${t(k)}<b>${n}</b></div>`).join("")}</div>
    <div class="grid2"><section><h2>${t("trend")}</h2><div class="chart" id="trend"></div></section>
    <section><h2>${t("outcomes")}</h2><div class="chart" id="outcomes"></div></section></div>
    <section><h2>${t("per_unit")}</h2><table data-testid="units"><tr><th>${t("unit")}</th><th>${t("matters")}</th>
    <th>${t("on_time")}</th><th>${t("overdue")}</th><th>${t("orders")}</th><th>${t("answers_overdue")}</th></tr>
    ${s.units.map((u) => `<tr class="${u.mattersOverdue || u.supervisionAnswersOverdue ? "overdue" : ""}"><td>${unitName(u.unit)}</td>
      <td>${u.matters}</td><td>${pct(u.rates?.onTimeHandlingRate ?? 0)}</td><td>${u.mattersOverdue}</td>
      <td>${u.supervisionOrders}</td><td>${u.supervisionAnswersOverdue}</td></tr>`).join("")}</table></section>`;
  const months = s.months.map((m) => iso(m.fromDate).slice(0, 7));
  const series = (key: string, pick: (m: (typeof s.months)[number]) => bigint) =>
    ({ name: t(key), type: "line" as const, data: s.months.map((m) => Number(pick(m))) });
  echarts.init(out.querySelector<HTMLElement>("#trend")!).setOption({
    tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: months }, yAxis: { type: "value" },
    series: [series("registered", (m) => m.mattersRegistered), series("accepted", (m) => m.mattersAccepted),
      series("concluded", (m) => m.mattersConcluded)],
  });
  echarts.init(out.querySelector<HTMLElement>("#outcomes")!).setOption({
    tooltip: {}, legend: {}, xAxis: { type: "category", data: [t("review"), t("re_review")] }, yAxis: { type: "value" },
    series: [
      { name: t("upheld"), type: "bar", data: [Number(f.reviewOutcomesUpheld), Number(f.reReviewOutcomesUpheld)] },
      { name: t("changed"), type: "bar", data: [Number(f.reviewOutcomesChanged), Number(f.reReviewOutcomesChanged)] },
      { name: t("revoked"), type: "bar", data: [Number(f.reviewOutcomesRevoked), Number(f.reReviewOutcomesRevoked)] },
    ],
  });
}
