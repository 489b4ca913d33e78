// The dashboard in a real browser (Debian's Chromium through playwright-core) against `oneledger up`
// loaded with a demo year: what an official does, checked against what the ledger API says.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import { type Browser, chromium, type Page } from "playwright-core";
import { Agency } from "../src/gen/oneledger/common/v1/common_pb";
import { type Entry, EntryOrder, type EntryFilterSchema } from "../src/gen/oneledger/ledger/v2/ledger_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { CHROMIUM, registerPetition, start, type System } from "./system";

/// Where to write a screenshot of each view (docs/dashboard when the docs are refreshed); none by default.
const SHOTS = process.env.SCREENSHOTS;
const T = { timeout: 120_000 };

let system: System;
let browser: Browser;
let page: Page;

async function shot(name: string, fullPage = false): Promise<void> {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage });
}

/// Every entry the ledger lists for a filter, in an order, through ListEntries' pages.
async function listAll(filter: MessageInitShape<typeof EntryFilterSchema>, orderBy: EntryOrder): Promise<{ entries: Entry[]; cursor: bigint }> {
  const entries: Entry[] = [];
  let pageToken = "";
  let cursor = 0n;
  do {
    const page = await system.ledger.listEntries({ filter, orderBy, pageSize: 200, pageToken });
    entries.push(...page.entries);
    cursor = page.asOfCursor;
    pageToken = page.nextPageToken;
  } while (pageToken);
  return { entries, cursor };
}

/// Runs `check` until the ledger stood still while it ran (a deadline crossing at Beijing midnight, say,
/// may change it between what the page shows and what the API says), so a comparison is of one state.
async function atOneCursor(check: () => Promise<void>): Promise<void> {
  const cursor = async () => (await system.ledger.listEntries({ pageSize: 1 })).asOfCursor;
  for (let attempt = 1; ; attempt++) {
    const before = await cursor();
    try {
      await check();
      return;
    } catch (e) {
      if (attempt >= 5 || (await cursor()) === before) throw e;
    }
  }
}

const rowIds = (p: Page) => p.locator("[data-testid=entries] tbody tr[data-root]").evaluateAll(
  (rows) => rows.map((r) => r.querySelector("td a")?.textContent ?? ""));

/// Does `action` and waits until the list (and with `cards`, the counts) it starts are drawn again.
async function rendered(action: () => Promise<void>, cards = false): Promise<void> {
  await page.evaluate(() => document.querySelectorAll("#cards, [data-testid=entries]").forEach((e) => e.setAttribute("data-stale", "")));
  await action();
  await page.locator("[data-testid=entries]:not([data-stale])").waitFor();
  if (cards) await page.locator("#cards:not([data-stale]) [data-testid=total]").waitFor();
}

async function search(filter: { unit?: string; text?: string }): Promise<void> {
  if (filter.unit !== undefined) await page.getByTestId("f-unit").selectOption(filter.unit);
  if (filter.text !== undefined) await page.getByTestId("f-text").fill(filter.text);
  await page.getByTestId("search").click();
}

describe("the joint-handling dashboard", () => {
  before(async () => {
    system = await start();
    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, locale: "zh-CN", acceptDownloads: true });
    // A reload would lose this mark: the live tests check it is still there.
    await page.addInitScript(() => { (window as unknown as { loadedAt: number }).loadedAt = Date.now(); });
  }, T);
  after(async () => {
    await browser?.close();
    await system?.stop();
  }, T);

  it("signs in with the dev token and shows the district's ledger, its counts equal to the API's", T, async () => {
    await page.goto(system.url);
    await page.getByTestId("token").fill(system.token);
    await page.getByTestId("signin").click();
    await page.getByTestId("entries").waitFor();
    await page.getByTestId("live").and(page.locator("[data-state=live]")).waitFor();
    await atOneCursor(async () => {
      await rendered(() => page.getByTestId("search").click(), true);
      const all = await system.ledger.listEntries({ pageSize: 1 });
      const overdue = await system.ledger.listEntries({ filter: { overdueOnly: true }, pageSize: 1 });
      assert.ok(all.totalSize > 100, `a demo year, not ${all.totalSize} entries`);
      assert.ok(overdue.totalSize > 0, "a demo year on its own clock has overdue entries");
      assert.match(await page.getByTestId("total").innerText(), new RegExp(`${all.totalSize}`));
      assert.equal(await page.getByTestId("overdue-count").innerText(), String(overdue.totalSize));
    });
    // Red rows are the overdue ones: sorted by next due date, the first rows are.
    assert.ok(await page.locator("tbody tr.overdue").count() > 0);
    await shot("ledger");
  });

  it("filters a unit's ledger (with the units below it) and sorts it by due date, as ListEntries does", T, async () => {
    const unit = "binhai.human_resources_bureau";
    await page.getByTestId("f-unit").selectOption(unit);
    await atOneCursor(async () => {
      await rendered(() => page.getByTestId("search").click(), true);
      await rendered(() => page.getByTestId("sort-col_risk").click());
      const byRisk = await listAll({ unitId: unit }, EntryOrder.RISK);
      assert.deepEqual(await rowIds(page), byRisk.entries.slice(0, 50).map((e) => e.root?.id));
    });
    await atOneCursor(async () => {
      await rendered(() => page.getByTestId("sort-col_next_due").click());
      const byDue = await listAll({ unitId: unit }, EntryOrder.NEXT_DUE);
      assert.ok(byDue.entries.length > 0, "the unit has entries");
      assert.deepEqual(await rowIds(page), byDue.entries.slice(0, 50).map((e) => e.root?.id));
      assert.match(await page.getByTestId("total").innerText(), new RegExp(`${byDue.entries.length}`));
    });
    const due = await page.locator("tbody tr td.due").evaluateAll((c) => c.map((x) => x.textContent?.slice(0, 10) ?? ""));
    const dated = due.filter(Boolean);
    assert.deepEqual(dated, [...dated].sort(), "next due dates ascend");
    await shot("unit-ledger");
  });

  it("downloads the unit's ledger as CSV whose rows are ListEntries' rows", T, async () => {
    const unit = "binhai.human_resources_bureau";
    await atOneCursor(async () => {
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
      assert.match(download.suggestedFilename(), /\.csv$/);
      const text = readFileSync(await download.path(), "utf8").replace(/^\uFEFF/, "");
      const records: string[][] = parse(text, { relaxColumnCount: true, skipEmptyLines: false });
      const about = new Map(records.slice(0, 5).map(([k, v]) => [k, v]));
      assert.match(about.get("导出内容") ?? "", /滨海新区人力资源和社会保障局/);
      const header = records.findIndex((r) => r[0] === "序号");
      assert.ok(header > 0, "a header row");
      assert.deepEqual(records[header].slice(0, 4), ["序号", "台账编号", "事项名称", "办理状态"]);
      const rows = records.slice(header + 1).filter((r) => r.length > 1);
      const col = (name: string) => records[header].indexOf(name);
      const listed = await listAll({ unitId: unit }, EntryOrder.NEXT_DUE);
      assert.equal(listed.cursor, BigInt(about.get("截至台账游标") ?? "-1"), "the file and the list are at one ledger cursor");
      assert.deepEqual(rows.map((r) => [r[col("台账编号")], r[col("事项名称")], r[col("是否逾期")], r[col("督办")]]),
        listed.entries.map((e) => [e.root?.id, e.title, e.overdue ? "是" : "否", String(e.supervisionOrders.length)]));
    });
  });

  it("opens an entry and shows all three agencies in its merged timeline", T, async () => {
    const { entries } = await listAll({}, EntryOrder.ROOT);
    const agencies = (e: Entry) => new Set(e.items.map((i) => i.agency));
    const three = entries.find((e) => agencies(e).size === 3);
    assert.ok(three, "the demo year has an entry handled by all three agencies");
    await search({ unit: "", text: three.title });
    await page.locator(`tr[data-root="${three.root?.kind}:${three.root?.id}"] a`).click();
    await page.getByTestId("timeline").waitFor();
    assert.match(await page.getByTestId("entry-title").innerText(), new RegExp(three.root?.id ?? "?"));
    const shown = new Set(await page.locator("[data-testid=timeline] tr td:nth-child(2)").allInnerTexts());
    for (const agency of ["信访办", "公安", "政法委"]) assert.ok(shown.has(agency), `${agency} in the timeline: ${[...shown]}`);
    const { entry } = await system.ledger.getEntry({ item: three.root });
    assert.equal(await page.locator("[data-testid=timeline] tr").count() - 1, entry?.timeline.length);
    assert.deepEqual(new Set(entry?.timeline.map((l) => l.agency)), new Set([Agency.PETITION, Agency.PUBLIC_SECURITY, Agency.POLITICAL_LEGAL]));
    await shot("entry", true);
  });

  it("shows a petition registered through gRPC, and a step on it, without reloading", T, async () => {
    const loadedAt = await page.evaluate(() => (window as unknown as { loadedAt: number }).loadedAt);
    const title = `浏览器测试：拖欠工资 ${Date.now()}`;
    await page.getByTestId("nav-ledger").click();
    await page.getByTestId("entries").waitFor();
    await search({ unit: "", text: title });
    await page.getByText("没有符合条件的事项").waitFor();

    const registered = await registerPetition(system, title, 1);
    const row = page.locator(`tr[data-root]`, { hasText: title });
    await row.waitFor();
    await row.locator("a").click();
    await page.getByTestId("timeline").waitFor();
    const before = await page.locator("[data-testid=timeline] tr").count();

    const territorial = system.territory;
    await system.petition.actOnMatter({
      requestId: crypto.randomUUID(), matterId: registered.matterId, expectedVersion: registered.result?.version,
      action: { case: "assign", value: { unitId: "binhai.human_resources_bureau", territorialUnitId: territorial } },
    });
    await page.waitForFunction((n) => document.querySelectorAll("[data-testid=timeline] tr").length > n, before);
    assert.equal(await page.evaluate(() => (window as unknown as { loadedAt: number }).loadedAt), loadedAt, "no reload");
  });

  it("switches to English and back", T, async () => {
    await page.getByTestId("lang").click();
    await page.getByTestId("nav-ledger").and(page.getByText("Ledger")).waitFor();
    assert.equal(await page.locator("#title").innerText(), "District master ledger");
    await page.getByTestId("nav-ledger").click();
    await page.getByTestId("f-text").fill("");
    await rendered(() => page.getByTestId("search").click(), true);
    assert.match(await page.getByTestId("total").innerText(), /Entries/);
    assert.equal(await page.getByTestId("sort-col_next_due").innerText(), "Next due");
    await shot("ledger-en");
    await page.getByTestId("lang").click();
    await page.getByTestId("nav-ledger").and(page.getByText("台账")).waitFor();
    assert.equal(await page.locator("#title").innerText(), "全区一本账");
  });

  it("shows the supervision board and the statistics with their charts", T, async () => {
    await page.getByTestId("nav-supervision").click();
    await page.getByTestId("orders").waitFor();
    const orders = await page.locator("[data-testid=orders] tr").count();
    assert.ok(orders > 1, "the demo year has open supervision orders");
    await shot("supervision");
    await page.getByTestId("nav-stats").click();
    await page.getByTestId("five").waitFor();
    await page.locator("canvas").first().waitFor();
    // The page's period (its own Beijing today and a year before) asked of the API directly.
    const day = async (name: string) => {
      const [year, month, d] = (await page.locator(`input[name=${name}]`).inputValue()).split("-").map(Number);
      return { year, month, day: d };
    };
    const stats = await system.ledger.getStatistics({ fromDate: await day("from"), toDate: await day("to") });
    const f = stats.figures!;
    const five = await page.locator("[data-testid=five] b").allInnerTexts();
    assert.deepEqual(five, [f.warningsIssued, f.supervisionOrdersIssued, f.resolutionReports,
      f.collectiveMattersAssigned, f.priorityMattersAssigned].map(String));
    assert.ok(f.warningsIssued > 0n, "the demo year's warnings are in the period");
    await page.getByTestId("units").waitFor();
    await shot("statistics");
  });
});
