// The joint-handling dashboard: the district's ledger, one entry's story, the supervision board and the
// statistics, read from the ledger API over gRPC-Web with clients generated from proto/, kept live by
// WatchEntries. Chinese first, English on the toggle.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Agency } from "./gen/oneledger/common/v1/common_pb";
import { DirectoryService, UnitKind, type Unit as DirUnit } from "./gen/oneledger/directory/v1/directory_pb";
import { RiskLevel } from "./gen/oneledger/dispute/v1/dispute_pb";
import type { Date as PbDate } from "./gen/google/type/date_pb";
import {
  type Entry, EntryFilterSchema, EntryOrder, EntryStatus, ExportFormat, ItemStage, DeadlineKind,
  LedgerService, ProposalStatus, type Unit,
} from "./gen/oneledger/ledger/v2/ledger_pb";
import { Escalation } from "./gen/oneledger/political_legal/v1/political_legal_pb";
import { current, deadlineLabel, escalationLabel, riskLabel, setLang, stageLabel, t } from "./i18n";
import { renderStatistics } from "./statistics";

const TOKEN_KEY = "oneledger.token";
let token = sessionStorage.getItem(TOKEN_KEY) ?? "";

const auth: Interceptor = (next) => async (req) => {
  req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};
const transport = createGrpcWebTransport({ baseUrl: location.origin, interceptors: [auth] });
export const ledger = createClient(LedgerService, transport);
const directory = createClient(DirectoryService, transport);

const main = document.getElementById("main") as HTMLElement;
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// ---- days: the ledger speaks Beijing legal days ----
export function beijingToday(): PbDate {
  const d = new Date(Date.now() + 8 * 3600 * 1000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() } as PbDate;
}
export const iso = (d?: PbDate) =>
  d ? `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}` : "";
export function dateOf(text: string): PbDate | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m ? ({ year: +m[1], month: +m[2], day: +m[3] } as PbDate) : undefined;
}
const dayNumber = (d: PbDate) => Date.UTC(d.year, d.month - 1, d.day) / 86400000;
export function addDays(d: PbDate, n: number): PbDate {
  const x = new Date((dayNumber(d) + n) * 86400000);
  return { year: x.getUTCFullYear(), month: x.getUTCMonth() + 1, day: x.getUTCDate() } as PbDate;
}
const daysUntil = (d: PbDate) => dayNumber(d) - dayNumber(beijingToday());
function when(ts?: { seconds: bigint }): string {
  if (!ts) return "";
  const d = new Date(Number(ts.seconds) * 1000 + 8 * 3600 * 1000);
  return d.toISOString().slice(0, 16).replace("T", " ");
}
export const unitName = (u?: Unit) => (u ? u.name || u.unitId : "");
const agencyName = (a: Agency) => t(Agency[a]?.toLowerCase() ?? "");

// ---- signing in ----
function signIn(message = ""): void {
  document.getElementById("nav")!.innerHTML = "";
  main.innerHTML = `<div class="signin"><h2>${t("signin")}</h2><p>${t("token_hint")}</p>
    <textarea id="token" data-testid="token"></textarea>
    <p class="error">${esc(message)}</p><button id="go" data-testid="signin">${t("signin")}</button></div>`;
  document.getElementById("go")!.onclick = () => {
    token = (document.getElementById("token") as HTMLTextAreaElement).value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    route();
  };
}

function failed(e: unknown): void {
  if (e instanceof ConnectError && (e.code === Code.Unauthenticated || e.code === Code.PermissionDenied)) {
    signIn(t("expired") + ` (${e.rawMessage})`);
    return;
  }
  main.insertAdjacentHTML("afterbegin", `<p class="error">${esc(String(e instanceof ConnectError ? e.rawMessage : e))}</p>`);
}

// ---- the directory, for names and the filters' choices ----
let units: DirUnit[] = [];
async function loadUnits(): Promise<void> {
  if (units.length) return;
  let pageToken = "";
  do {
    const page = await directory.listUnits({ pageSize: 200, pageToken });
    units.push(...page.units);
    pageToken = page.nextPageToken;
  } while (pageToken);
}
const territoryKinds = [UnitKind.DEVELOPMENT_ZONE, UnitKind.SUBDISTRICT, UnitKind.TOWN];
const options = (list: [string, string][], selected: string) =>
  list.map(([v, l]) => `<option value="${esc(v)}"${v === selected ? " selected" : ""}>${esc(l)}</option>`).join("");

// ---- the ledger ----
type FilterInit = MessageInitShape<typeof EntryFilterSchema>;
interface LedgerState { filter: FilterInit; order: EntryOrder; tokens: string[]; offset: number; }
const state: LedgerState = { filter: {}, order: EntryOrder.NEXT_DUE, tokens: [""], offset: 0 };
const PAGE = 50;
let shown = new Map<string, Entry>();

const rootKey = (e: Entry) => `${e.root?.kind}:${e.root?.id}`;
function rowClass(e: Entry): string {
  if (e.overdue) return "overdue";
  return e.nextDueOn && daysUntil(e.nextDueOn) <= 7 && e.status === EntryStatus.OPEN ? "soon" : "";
}
function rowHtml(e: Entry): string {
  const stage = e.items.map((i) => stageLabel(ItemStage[i.stage])).filter(Boolean).join("；");
  const orders = e.supervisionOrders.length ? String(e.supervisionOrders.length) : "";
  const href = `#/entry/${e.root?.kind}/${encodeURIComponent(e.root?.id ?? "")}`;
  return `<tr class="${rowClass(e)}" data-root="${esc(rootKey(e))}">
    <td><a href="${href}">${esc(e.root?.id ?? "")}</a></td><td>${esc(e.title)}</td>
    <td>${t(e.status === EntryStatus.CLOSED ? "closed" : "open")}</td><td>${esc(stage)}</td>
    <td>${esc(unitName(e.responsibleUnit))}</td><td>${esc(unitName(e.territory))}</td>
    <td>${esc(riskLabel(RiskLevel[e.riskLevel]))}</td><td class="due">${iso(e.nextDueOn)}${e.overdue ? ` <span class="badge red">${t("overdue")}</span>` : ""}</td>
    <td>${orders}</td><td>${when(e.lastChangedAt)}</td></tr>`;
}

async function showLedger(): Promise<void> {
  await loadUnits();
  const f = state.filter;
  const unitChoices: [string, string][] = [["", t("any")], ...units.map((u): [string, string] => [u.unitId, u.name])];
  const territories: [string, string][] = [["", t("any")],
    ...units.filter((u) => territoryKinds.includes(u.kind)).map((u): [string, string] => [u.unitId, u.name])];
  const stages: [string, string][] = [["0", t("any")], ...Object.entries(ItemStage)
    .filter(([, v]) => typeof v === "number" && v !== 0).map(([k, v]): [string, string] => [String(v), stageLabel(k)])];
  const risks: [string, string][] = [["0", t("any")], ...[RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.MAJOR]
    .map((r): [string, string] => [String(r), riskLabel(RiskLevel[r])])];
  const statuses: [string, string][] = [["0", t("any")], [String(EntryStatus.OPEN), t("open")], [String(EntryStatus.CLOSED), t("closed")]];
  main.innerHTML = `<div class="cards" id="cards"></div>
    <form class="filters" id="filters">
      <label>${t("unit")}<select name="unit" data-testid="f-unit">${options(unitChoices, f.unitId ?? "")}</select></label>
      <label>${t("territory")}<select name="territory">${options(territories, f.territoryUnitId ?? "")}</select></label>
      <label>${t("status")}<select name="status">${options(statuses, String(f.status ?? 0))}</select></label>
      <label>${t("stage")}<select name="stage">${options(stages, String(f.stage ?? 0))}</select></label>
      <label>${t("risk")}<select name="risk">${options(risks, String(f.minRisk ?? 0))}</select></label>
      <label>${t("due_before")}<input type="date" name="due" value="${iso(f.dueBefore as PbDate | undefined)}"></label>
      <label>${t("text")}<input name="text" value="${esc(f.titleContains ?? "")}" data-testid="f-text"></label>
      <label><span><input type="checkbox" name="overdue"${f.overdueOnly ? " checked" : ""}> ${t("overdue_only")}</span></label>
      <button type="submit" data-testid="search">${t("search")}</button>
      <button type="button" id="xlsx" data-testid="export-xlsx">${t("export_xlsx")}</button>
      <button type="button" id="csv" data-testid="export-csv">${t("export_csv")}</button>
    </form><div id="list">${t("loading")}</div>`;
  const form = document.getElementById("filters") as HTMLFormElement;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const v = new FormData(form);
    state.filter = {
      unitId: String(v.get("unit") ?? ""), territoryUnitId: String(v.get("territory") ?? ""),
      status: Number(v.get("status")), stage: Number(v.get("stage")), minRisk: Number(v.get("risk")),
      dueBefore: dateOf(String(v.get("due") ?? "")), titleContains: String(v.get("text") ?? "").trim(),
      overdueOnly: v.get("overdue") === "on",
    };
    state.tokens = [""]; state.offset = 0;
    void showLedger();
  };
  document.getElementById("xlsx")!.onclick = () => void exportList(ExportFormat.XLSX);
  document.getElementById("csv")!.onclick = () => void exportList(ExportFormat.CSV);
  await renderList();
}

// The counts come with every list (total, overdue, due soon), so the top of the page costs no query.
function drawCards(page: { totalSize: number; overdueSize: number; dueSoonSize: number }): void {
  const cards = document.getElementById("cards");
  if (cards) cards.innerHTML = `<div class="card" data-testid="total">${t("total")}<b>${page.totalSize}</b></div>
    <div class="card red">${t("overdue")}<b data-testid="overdue-count">${page.overdueSize}</b></div>
    <div class="card amber">${t("due_soon")}<b data-testid="due-soon-count">${page.dueSoonSize}</b></div>`;
}

async function renderCards(): Promise<void> {
  drawCards(await ledger.listEntries({ filter: state.filter, orderBy: state.order, pageSize: 1 }));
}

const columns: [string, EntryOrder | null][] = [
  ["col_root", EntryOrder.ROOT], ["col_title", null], ["col_status", null], ["col_stage", null],
  ["col_responsible", null], ["col_territory", null], ["col_risk", EntryOrder.RISK], ["col_next_due", EntryOrder.NEXT_DUE],
  ["col_orders", null], ["col_changed", EntryOrder.LAST_CHANGE],
];

async function renderList(): Promise<void> {
  const page = await ledger.listEntries({
    filter: state.filter, orderBy: state.order, pageSize: PAGE, pageToken: state.tokens[state.tokens.length - 1],
  });
  follow(page.asOfCursor);
  drawCards(page);
  shown = new Map(page.entries.map((e) => [rootKey(e), e]));
  const head = columns.map(([k, order]) => order === null ? `<th>${t(k)}</th>`
    : `<th class="sort${order === state.order ? " sorted" : ""}" data-order="${order}" data-testid="sort-${k}">${t(k)}</th>`).join("");
  const rows = page.entries.map(rowHtml).join("") || `<tr><td colspan="10">${t("no_entries")}</td></tr>`;
  const a = page.entries.length ? state.offset + 1 : 0;
  const list = document.getElementById("list");
  if (!list) return;
  list.innerHTML = `<table data-testid="entries"><thead><tr>${head}</tr></thead><tbody id="rows">${rows}</tbody></table>
    <div class="pager"><button id="prev"${state.tokens.length > 1 ? "" : " disabled"}>${t("prev")}</button>
    <span>${t("page_of", { a, b: state.offset + page.entries.length, n: page.totalSize })}</span>
    <button id="next"${page.nextPageToken ? "" : " disabled"} data-testid="next">${t("next")}</button></div>`;
  list.querySelectorAll<HTMLElement>("th.sort").forEach((th) => {
    th.onclick = () => { state.order = Number(th.dataset.order); state.tokens = [""]; state.offset = 0; void renderList(); };
  });
  document.getElementById("next")!.onclick = () => { state.tokens.push(page.nextPageToken); state.offset += page.entries.length; void renderList(); };
  document.getElementById("prev")!.onclick = () => { state.tokens.pop(); state.offset = Math.max(0, state.offset - PAGE); void renderList(); };
}

export function download(name: string, type: string, content: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([content as BlobPart], { type }));
  const a = document.createElement("a");
  a.href = url; a.download = name; a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function exportList(format: ExportFormat): Promise<void> {
  const file = await ledger.exportLedger({
    format, what: { case: "entries", value: { filter: state.filter, orderBy: state.order } },
  });
  download(file.fileName, file.contentType, file.content);
}

// ---- one entry ----
const LADDER = [Escalation.INTERVIEW, Escalation.PUBLIC_NOTICE, Escalation.LISTED_SUPERVISION,
  Escalation.BACKWARD_INVESTIGATION, Escalation.ACCOUNTABILITY_RECOMMENDATION];

function countdown(d: { dueOn?: PbDate; metOn?: PbDate; paused: boolean }): string {
  if (d.metOn || !d.dueOn) return "";
  const n = daysUntil(d.dueOn);
  const text = n > 0 ? t("days_left", { n }) : n === 0 ? t("today_due") : t("days_over", { n: -n });
  return `<span class="badge ${n < 0 ? "red" : n <= 7 ? "amber" : ""}">${text}</span>`;
}

async function showEntry(kind: number, id: string): Promise<void> {
  const entry = (await ledger.getEntry({ item: { kind, id } })).entry;
  if (!entry) return;
  const byAgency = new Map<Agency, string[]>();
  for (const i of entry.items) {
    const list = byAgency.get(i.agency) ?? [];
    list.push(`${esc(i.item?.id ?? "")} · ${esc(stageLabel(ItemStage[i.stage]))}`);
    byAgency.set(i.agency, list);
  }
  const items = [...byAgency].map(([a, list]) => `<tr><td>${agencyName(a)}</td><td>${list.join("<br>")}</td></tr>`).join("");
  const unitsRows = ([["responsible", entry.responsibleUnit], ["territorial", entry.territorialUnit],
    ["territory", entry.territory], ["police", entry.policeStation]] as [string, Unit | undefined][])
    .filter(([, u]) => u).map(([k, u]) => `<tr><td>${t(k)}</td><td>${esc(unitName(u))} <small>${esc(u!.unitId)}</small></td></tr>`).join("")
    + (entry.coHandlingUnits.length ? `<tr><td>${t("co_handling")}</td><td>${entry.coHandlingUnits.map((u) => esc(unitName(u))).join("、")}</td></tr>` : "");
  const deadlines = entry.deadlines.map((d) => `<tr class="${d.overdue ? "overdue" : ""}">
    <td>${esc(deadlineLabel(DeadlineKind[d.kind]))}</td><td>${esc(d.article)}</td><td class="due">${iso(d.dueOn)}</td>
    <td>${iso(d.metOn)}</td><td>${countdown(d)}${d.paused ? ` <span class="badge">${t("paused")}</span>` : ""}${d.provisional ? ` <span class="badge">${t("provisional")}</span>` : ""}</td>
    <td>${esc(unitName(d.dutyUnit))}</td></tr>`).join("");
  const orders = entry.supervisionOrders.map((o) => {
    const at = LADDER.indexOf(o.escalation);
    const ladder = LADDER.map((l, i) => `<span class="${i === at ? "on" : i < at ? "past" : ""}">${esc(escalationLabel(Escalation[l]))}</span>`).join("");
    return `<tr class="${o.answerOverdue ? "overdue" : ""}"><td>${esc(o.orderId)}</td><td>${esc(unitName(o.toUnit))}</td>
      <td>${esc(stageLabel(ItemStage[o.stage]))}</td><td><div class="ladder">${ladder}</div></td><td class="due">${iso(o.answerDueOn)}</td></tr>`;
  }).join("");
  const proposals = entry.proposals.map((p) => `<tr><td>${esc(p.proposalId)}</td><td>${esc(unitName(p.unit))}</td>
    <td>${esc(p.article)}</td><td>${ProposalStatus[p.status]?.toLowerCase()}</td><td>${esc(p.reason)}</td></tr>`).join("");
  const timeline = entry.timeline.map((l) => `<tr><td>${when(l.occurredAt)}</td><td>${agencyName(l.agency)}</td>
    <td>${esc(l.eventType)}</td><td>${esc(unitName(l.actingUnit))}</td></tr>`).join("");
  main.innerHTML = `<p><a href="#/ledger">← ${t("back")}</a></p>
    <section><h2 data-testid="entry-title">${esc(entry.root?.id ?? "")} · ${esc(entry.title)}
      <span class="badge">${t(entry.status === EntryStatus.CLOSED ? "closed" : "open")}</span>
      ${entry.riskLevel ? `<span class="badge red">${t("risk")} ${esc(riskLabel(RiskLevel[entry.riskLevel]))}</span>` : ""}</h2>
      <div class="grid2"><table><tr><th>${t("agency")}</th><th>${t("items")}</th></tr>${items}</table>
      <table><tr><th colspan="2">${t("units")}</th></tr>${unitsRows}
      <tr><td>${t("reports")}</td><td>${entry.resolutionReports}</td></tr></table></div></section>
    <section><h2>${t("deadlines")}</h2><table><tr><th>${t("kind")}</th><th>${t("article")}</th><th>${t("due_on")}</th>
      <th>${t("met_on")}</th><th>${t("countdown")}</th><th>${t("duty")}</th></tr>${deadlines}</table></section>
    ${orders ? `<section><h2>${t("orders")}</h2><table><tr><th>#</th><th>${t("to_unit")}</th><th>${t("stage")}</th>
      <th>${t("escalation")}</th><th>${t("answer_due")}</th></tr>${orders}</table></section>` : ""}
    ${proposals ? `<section><h2>${t("proposals")}</h2><table>${proposals}</table></section>` : ""}
    <section><h2>${t("timeline")}</h2><table data-testid="timeline"><tr><th>${t("when")}</th><th>${t("agency")}</th>
      <th>${t("event")}</th><th>${t("by")}</th></tr>${timeline}</table></section>`;
}

// ---- the supervision board ----
async function showSupervision(): Promise<void> {
  const stages = [ItemStage.ORDER_ISSUED, ItemStage.ORDER_ACKNOWLEDGED, ItemStage.ORDER_FEEDBACK_SUBMITTED];
  const entries = new Map<string, Entry>();
  for (const stage of stages) {
    let pageToken = "";
    do {
      const page = await ledger.listEntries({ filter: { stage }, pageSize: 200, pageToken });
      page.entries.forEach((e) => entries.set(rootKey(e), e));
      pageToken = page.nextPageToken;
    } while (pageToken);
  }
  const orders = [...entries.values()].flatMap((e) => e.supervisionOrders
    .filter((o) => o.stage !== ItemStage.ORDER_CLOSED).map((o) => ({ e, o })));
  orders.sort((a, b) => Number(b.o.answerOverdue) - Number(a.o.answerOverdue) || b.o.escalation - a.o.escalation);
  const byLevel = new Map<string, number>();
  orders.forEach(({ o }) => {
    const k = escalationLabel(Escalation[o.escalation]) || t("none");
    byLevel.set(k, (byLevel.get(k) ?? 0) + 1);
  });
  const overdue = orders.filter(({ o }) => o.answerOverdue).length;
  main.innerHTML = `<div class="cards"><div class="card">${t("orders")}<b>${orders.length}</b></div>
    <div class="card red">${t("overdue_answers")}<b>${overdue}</b></div>
    ${[...byLevel].map(([k, n]) => `<div class="card">${esc(k)}<b>${n}</b></div>`).join("")}</div>
    <table data-testid="orders"><tr><th>#</th><th>${t("col_title")}</th><th>${t("to_unit")}</th><th>${t("escalation")}</th>
    <th>${t("answer_due")}</th></tr>${orders.map(({ e, o }) => `<tr class="${o.answerOverdue ? "overdue" : ""}">
    <td><a href="#/entry/${e.root?.kind}/${encodeURIComponent(e.root?.id ?? "")}">${esc(o.orderId)}</a></td><td>${esc(e.title)}</td>
    <td>${esc(unitName(o.toUnit))}</td><td>${esc(escalationLabel(Escalation[o.escalation]) || t("none"))}</td>
    <td class="due">${iso(o.answerDueOn)}</td></tr>`).join("")}</table>`;
}

// ---- live: every change arrives through WatchEntries ----
let watching: AbortController | null = null;
let watchedFrom = 0n;
const live = document.getElementById("live") as HTMLElement;
function liveState(s: "live" | "behind" | "disconnected"): void {
  live.className = `live ${s === "live" ? "" : s === "behind" ? "behind" : "off"}`;
  live.textContent = t(s);
  live.dataset.state = s;
}

function follow(cursor: bigint): void {
  if (watching && cursor >= watchedFrom) return;
  watching?.abort();
  watchedFrom = cursor;
  watching = new AbortController();
  void watch(cursor, watching.signal);
}

async function watch(after: bigint, signal: AbortSignal): Promise<void> {
  let cursor = after;
  let idle: number | undefined;
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      liveState("behind");
      idle = window.setTimeout(() => liveState("live"), 500);
      for await (const change of ledger.watchEntries({ afterCursor: cursor }, { signal })) {
        attempt = 0;
        cursor = change.cursor;
        watchedFrom = cursor;
        clearTimeout(idle);
        liveState("behind");
        idle = window.setTimeout(() => liveState("live"), 500);
        if (change.entry) changed(change.entry);
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ConnectError && e.code === Code.Unauthenticated) { signIn(t("expired")); return; }
    }
    clearTimeout(idle);
    liveState("disconnected");
    await new Promise((r) => setTimeout(r, Math.min(30000, 500 * 2 ** attempt)));
  }
}

// Changes come in bursts (a story's steps, a batch of the projector): the page reads again at most
// once per REFRESH_MS, without waiting for a burst to end, so a steady stream never starves it.
const REFRESH_MS = 150;
const pending = { cards: false, list: false, entry: false };
let refresh: number | undefined;
function later(what: keyof typeof pending): void {
  pending[what] = true;
  refresh ??= window.setTimeout(readAgain, REFRESH_MS);
}
function readAgain(): void {
  refresh = undefined;
  const { cards, list, entry } = pending;
  pending.cards = pending.list = pending.entry = false;
  const [, view, kind, id] = location.hash.split("/");
  if (view === "entry" && entry) void showEntry(Number(kind), decodeURIComponent(id ?? "")).catch(failed);
  if (!view || view === "ledger") {
    if (list) void renderList().catch(failed);
    else if (cards) void renderCards().catch(failed);
  }
}

function changed(e: Entry): void {
  const key = rootKey(e);
  const [, view, kind, id] = location.hash.split("/");
  // The open entry is read again with its timeline, which a change does not carry.
  if (view === "entry" && `${kind}:${decodeURIComponent(id ?? "")}` === key) later("entry");
  if (view && view !== "ledger") return;
  const row = document.querySelector<HTMLElement>(`tr[data-root="${CSS.escape(key)}"]`);
  if (row && shown.has(key)) {
    shown.set(key, e);
    row.outerHTML = rowHtml(e);
    document.querySelector(`tr[data-root="${CSS.escape(key)}"]`)?.classList.add("flash");
  }
  // A new or moved entry changes the counts and perhaps the page.
  later("cards");
  if (!row) later("list");
}

// ---- routing ----
function nav(active: string): void {
  document.getElementById("nav")!.innerHTML = ["ledger", "supervision", "stats"]
    .map((k) => `<a href="#/${k}" class="${k === active ? "on" : ""}" data-testid="nav-${k}">${t(k)}</a>`).join("");
  document.getElementById("title")!.textContent = t("title");
  document.getElementById("lang")!.textContent = current() === "zh" ? "English" : "中文";
  const out = document.getElementById("signout") as HTMLButtonElement;
  out.hidden = false;
  out.textContent = t("signout");
}

async function route(): Promise<void> {
  if (!token) return signIn();
  const [, view, a, b] = location.hash.split("/");
  nav(view === "entry" ? "ledger" : view || "ledger");
  try {
    if (view === "entry") await showEntry(Number(a), decodeURIComponent(b ?? ""));
    else if (view === "supervision") await showSupervision();
    else if (view === "stats") await renderStatistics(main);
    else await showLedger();
  } catch (e) {
    failed(e);
  }
}

document.getElementById("lang")!.onclick = () => {
  setLang(current() === "zh" ? "en" : "zh");
  if (live.dataset.state) liveState(live.dataset.state as "live");
  void route();
};
document.getElementById("signout")!.onclick = () => {
  sessionStorage.removeItem(TOKEN_KEY);
  token = "";
  watching?.abort();
  signIn();
};
window.addEventListener("hashchange", () => void route());
setLang(current());
void route();
