// The dashboard's figures in a real browser against `oneledger up` with a demo year: the first load's
// size and time (cold cache, the ledger drawn with its counts), and the time from a command's OK to the
// change showing in the open page, over commands made one after another through gRPC.
//
//   (cd web && ONELEDGER_BIN=../target/release/oneledger npm run bench:browser)
//
// Not a test: it prints figures and asserts nothing about their size.
import { cpus, totalmem } from "node:os";
import { chromium, type Page } from "playwright-core";
import { ItemKind } from "../src/gen/oneledger/common/v1/common_pb";
import { CHROMIUM, registerPetition, start } from "./system";

/// The demo's own default year.
const PETITIONS = Number(process.env.BENCH_PETITIONS ?? 2400);
const COLD_LOADS = Number(process.env.BENCH_LOADS ?? 10);
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 100);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const summary = (xs: number[]) =>
  `p50 ${quantile(xs, 0.5).toFixed(0)} ms, p99 ${quantile(xs, 0.99).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (n=${xs.length})`;

interface Load { ms: number; pageBytes: number; pageBodyBytes: number; apiBytes: number; }

/// One load in a fresh context (nothing cached): from navigation to the ledger's rows and counts drawn.
/// A district's network between a unit's office and the server, for the second set of loads.
const SLOW = { offline: false, latency: 20, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 };

async function coldLoad(browser: import("playwright-core").Browser, url: string, token: string, gzip: boolean, slow: boolean): Promise<Load> {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    // The baseline: the same load with the bundle as it is, as it was served before gzip.
    extraHTTPHeaders: gzip ? {} : { "accept-encoding": "identity" },
  });
  await context.addInitScript((t) => sessionStorage.setItem("oneledger.token", t), token);
  const page = await context.newPage();
  if (slow) await (await context.newCDPSession(page)).send("Network.emulateNetworkConditions", SLOW);
  await page.goto(url, { waitUntil: "commit" });
  await page.locator("[data-testid=entries] tbody tr[data-root]").first().waitFor();
  await page.locator("#cards [data-testid=total]").waitFor();
  const load = await page.evaluate(() => {
    const ms = performance.now();
    const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")] as PerformanceResourceTiming[];
    const isPage = (e: PerformanceResourceTiming) => /\/(index\.html|app\.js|app\.css)?$/.test(new URL(e.name).pathname);
    const sum = (list: PerformanceResourceTiming[], f: (e: PerformanceResourceTiming) => number) => list.reduce((s, e) => s + f(e), 0);
    const pageFiles = entries.filter(isPage);
    return { ms, pageBytes: sum(pageFiles, (e) => e.transferSize), pageBodyBytes: sum(pageFiles, (e) => e.decodedBodySize),
      apiBytes: sum(entries.filter((e) => !isPage(e)), (e) => e.transferSize) };
  });
  await context.close();
  return load;
}

/// Records when each ledger row is drawn, with its text, so a change's arrival is timed in the page.
async function watchRows(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: { root: string; text: string; at: number }[] = [];
    (window as unknown as { seen: typeof seen }).seen = seen;
    new MutationObserver((records) => {
      const at = Date.now();
      for (const r of records) for (const n of r.addedNodes) {
        if (!(n instanceof HTMLElement)) continue;
        const rows = n.matches("tr[data-root]") ? [n] : [...n.querySelectorAll<HTMLElement>("tr[data-root]")];
        for (const row of rows) seen.push({ root: row.dataset.root ?? "", text: row.innerText, at });
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
}

/// When the page first drew `root`'s row at or after `since`, with text other than `unlike`.
async function drawn(page: Page, root: string, since: number, unlike = "\u0000"): Promise<number> {
  const handle = await page.waitForFunction(([root, since, unlike]) => {
    const seen = (window as unknown as { seen: { root: string; text: string; at: number }[] }).seen;
    return seen.find((s) => s.root === root && s.at >= Number(since) && s.text !== unlike)?.at;
  }, [root, String(since), unlike] as const, { timeout: 30_000, polling: "raf" });
  return Number(await handle.jsonValue());
}

async function main(): Promise<void> {
  const begun = Date.now();
  const system = await start(PETITIONS);
  console.log(`demo year of ${PETITIONS} petitions loaded in ${((Date.now() - begun) / 1000).toFixed(0)} s`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; binary ${process.env.ONELEDGER_BIN}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const total = (await system.ledger.listEntries({ pageSize: 1 })).totalSize;
    console.log(`first load (cold cache, ${total} entries, until the first 50 rows and the counts are drawn):`);
    // Alternating, so both see the machine in the same state; on loopback, then on 10 Mbit/s with 20 ms.
    for (const slow of [false, true]) {
      const loads = new Map<boolean, Load[]>([[true, []], [false, []]]);
      for (let i = 0; i < 2 * COLD_LOADS; i++) {
        const gzip = i % 2 === 0;
        loads.get(gzip)?.push(await coldLoad(browser, system.url, system.token, gzip, slow));
      }
      for (const [gzip, list] of loads) {
        const l = list[0];
        console.log(`  ${slow ? "10 Mbit/s" : "loopback "} ${gzip ? "gzip    " : "identity"}: ${summary(list.map((x) => x.ms))}; page files ${l.pageBytes} B transferred (${l.pageBodyBytes} B decoded), API calls ${l.apiBytes} B`);
      }
    }
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.addInitScript((t) => sessionStorage.setItem("oneledger.token", t), system.token);
    await page.goto(system.url);
    const marker = `时延测量 ${Date.now()}`;
    await page.getByTestId("f-text").fill(marker);
    await page.getByTestId("search").click();
    await page.getByText("没有符合条件的事项").waitFor();
    await page.getByTestId("sort-col_changed").click();
    await page.locator("th.sorted[data-testid=sort-col_changed]").waitFor();
    await page.getByTestId("live").and(page.locator("[data-state=live]")).waitFor();
    await watchRows(page);

    // A: a new petition, registered at the petition office, appears in the list of its kind.
    const commandMs: number[] = [];
    const visibleMs: number[] = [];
    const matters: { id: string; version: bigint; root: string }[] = [];
    for (let n = 0; n < COMMANDS; n++) {
      const sent = Date.now();
      const r = await registerPetition(system, `${marker} 第${n + 1}件`, 50_000 + n);
      const ok = Date.now();
      commandMs.push(ok - sent);
      const root = `${ItemKind.PETITION_MATTER}:${r.matterId}`;
      visibleMs.push(Math.max(0, (await drawn(page, root, sent)) - ok));
      matters.push({ id: r.matterId, version: r.result?.version ?? 0n, root });
    }
    console.log(`A. RegisterPetition → its row in the open, filtered list (a new entry: the page lists again):`);
    console.log(`   command ${summary(commandMs)}; OK → visible ${summary(visibleMs)}`);

    // B: a step on an entry the page shows: its row changes in place.
    const territorial = system.territory;
    const shownRoots = new Set(await page.locator("tbody tr[data-root]").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.root)));
    const stepMs: number[] = [];
    const stepVisibleMs: number[] = [];
    for (const m of matters.filter((m) => shownRoots.has(m.root))) {
      const before = await page.locator(`tr[data-root="${m.root}"]`).innerText();
      const sent = Date.now();
      await system.petition.actOnMatter({
        requestId: crypto.randomUUID(), matterId: m.id, expectedVersion: m.version,
        action: { case: "assign", value: { unitId: "binhai.human_resources_bureau", territorialUnitId: territorial } },
      });
      const ok = Date.now();
      stepMs.push(ok - sent);
      // Drawn before the OK reached this process counts as no wait at all.
      stepVisibleMs.push(Math.max(0, (await drawn(page, m.root, sent, before)) - ok));
    }
    console.log(`B. ActOnMatter (assign) on a shown entry → its row redrawn in place:`);
    console.log(`   command ${summary(stepMs)}; OK → visible ${summary(stepVisibleMs)}`);
  } finally {
    await browser.close();
    await system.stop();
  }
}

await main();
