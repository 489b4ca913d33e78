// A real oneledger for the browser tests: `oneledger up --demo-clock` on a fresh data directory with a
// demo year loaded by `oneledger demo`, and gRPC clients (the same generated code as the dashboard's,
// over HTTP/2 as an agency system would call) for what the tests do and check beside the page.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DirectoryService, UnitKind } from "../src/gen/oneledger/directory/v1/directory_pb";
import { LedgerService } from "../src/gen/oneledger/ledger/v2/ledger_pb";
import { Channel, ClaimClass, PetitionService } from "../src/gen/oneledger/petition/v1/petition_pb";

/// The binary under test: CI passes its own target directory's.
export const BIN = process.env.ONELEDGER_BIN ?? "../target/debug/oneledger";
/// Debian's Chromium; the tests never download a browser.
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
/// The ledger's port; the services take the next four. Away from `up`'s 50050 so a developer's own
/// running system is left alone.
const BASE_PORT = Number(process.env.ONELEDGER_TEST_PORT ?? 51150);
/// Petitions in the tests' demo year: enough for pages, units and all three agencies, quick in a debug
/// build (`ONELEDGER_TEST_PETITIONS=2400`, the demo's own year, for the README's pictures). The
/// benchmark loads the demo's own year.
const TEST_PETITIONS = Number(process.env.ONELEDGER_TEST_PETITIONS ?? 120);

export interface System {
  /// The dashboard's address, e.g. http://127.0.0.1:51150/.
  url: string;
  /// The dev token `up` printed (petition office: intake clerk, viewer, coordinator).
  token: string;
  ledger: Client<typeof LedgerService>;
  directory: Client<typeof DirectoryService>;
  petition: Client<typeof PetitionService>;
  /// A sub-district of the directory, read once, where the tests' petitions arise.
  territory: string;
  stop(): Promise<void>;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_BACKTRACE: "0" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`oneledger ${args[0]} exited ${code}:\n${err}${out}`))));
  });
}

/// Reads `up`'s welcome until the dashboard line, keeping the dev token it printed.
function welcome(up: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let token = "";
    const lines = createInterface({ input: up.stdout! });
    lines.on("line", (line) => {
      if (line.startsWith("eyJ")) token = line.trim();
      if (line.startsWith("dashboard:")) resolve(token);
    });
    up.on("exit", (code) => reject(new Error(`oneledger up exited ${code} before it was up`)));
  });
}

export async function start(petitions = TEST_PETITIONS): Promise<System> {
  const dir = mkdtempSync(join(tmpdir(), "oneledger-browser-"));
  const data = join(dir, "data");
  const address = (offset: number) => `http://127.0.0.1:${BASE_PORT + offset}`;
  const up = spawn(BIN, ["up", "--data-dir", data, "--listen", `127.0.0.1:${BASE_PORT}`, "--demo-clock",
    // The watcher looks every second, so the thresholds the demo's last week crossed are recorded
    // before the tests begin rather than in the middle of one.
    "--watch-every-seconds", "1"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, RUST_BACKTRACE: "0", ONELEDGER_LOG: "warn" },
  });
  const stop = async () => {
    if (up.exitCode === null) {
      const exited = new Promise((r) => up.once("exit", r));
      up.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const token = await welcome(up);
    await run(["demo", "--data-dir", data, "--petitions", String(petitions),
      "--ledger-address", address(0), "--petition-address", address(1), "--public-security-address", address(2),
      "--political-legal-address", address(3), "--demo-clock-address", address(4)]);
    const auth: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    };
    const grpc = (offset: number) => createGrpcTransport({ baseUrl: address(offset), interceptors: [auth] });
    const ledger = createClient(LedgerService, grpc(0));
    await quiet(ledger);
    const directory = createClient(DirectoryService, grpc(0));
    const territory = (await directory.listUnits({ kind: UnitKind.SUBDISTRICT, pageSize: 1 })).units[0].unitId;
    return {
      url: `${address(0)}/`, token, stop, ledger, directory, territory,
      petition: createClient(PetitionService, grpc(1)),
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/// Waits until the ledger has not changed for QUIET_MS: the demo's load and the watcher's last
/// thresholds are in.
const QUIET_MS = 3000;
async function quiet(ledger: Client<typeof LedgerService>): Promise<void> {
  const cursor = async () => (await ledger.listEntries({ pageSize: 1 })).asOfCursor;
  let last = await cursor();
  for (let since = Date.now(); Date.now() - since < QUIET_MS;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await cursor();
    if (now !== last) [last, since] = [now, Date.now()];
  }
}

/// A resident identity number with the standard's check digit (GB 11643), for a test petitioner.
export function residentId(n: number): string {
  const body = `120116199001${String(n % 100000).padStart(5, "0")}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, c, i) => s + Number(c) * weights[i], 0);
  return body + "10X98765432"[sum % 11];
}

/// Registers a petition about unpaid wages at the human resources bureau, as the petition office's
/// intake would, through its gRPC API; `n` makes the petitioner.
export async function registerPetition(system: System, title: string, n: number) {
  return system.petition.registerPetition({
    requestId: crypto.randomUUID(), channel: Channel.VISIT, claimClass: ClaimClass.CLAIM, title,
    petitioners: [{ name: `测试人${n}`, idNumber: residentId(n), phone: `1390000${String(n % 10000).padStart(4, "0")}` }],
    collectiveSize: 1, territoryUnitId: system.territory, category: "劳动保障",
    respondentUnitId: "binhai.human_resources_bureau",
  });
}
