//! A client for people: the ledger (list, show, watch, stats, export) and a petition's public status, readable.

use anyhow::Context;
use comfy_table::{LineStyle, Table, TableStyle};
use oneledger_domain::dispute::RiskLevel;
use oneledger_proto::common::v1::ItemRef;
use oneledger_proto::convert::ledger as wire;
use oneledger_proto::ledger::v2::{self as pb, ledger_service_client::LedgerServiceClient};
use oneledger_proto::petition::v1::{
    GetPublicStatusRequest, petition_service_client::PetitionServiceClient,
};

use crate::config::{
    ClientArgs, EntryFilterArgs, ExportFormatArg, LedgerCommand, OrderArg, PeriodArgs,
    PetitionStatusArgs, RiskArg, StatusArg,
};

fn authorized<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    oneledger_services::auth::authorized(message, token).context("--token")
}

async fn ledger(
    client: &ClientArgs,
) -> anyhow::Result<LedgerServiceClient<tonic::transport::Channel>> {
    let mut endpoint = tonic::transport::Endpoint::from_shared(client.address.clone())
        .context("--address: an address like https://ledger.example:50050")?;
    if let Some(tls) = client.tls.client()? {
        endpoint = endpoint.tls_config(tls).context("--tls-ca")?;
    }
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("connecting to {}", client.address))?;
    Ok(LedgerServiceClient::new(channel))
}

/// Columns apart, the header underlined, no borders: reads in a terminal and pastes into a report.
const TABLE_STYLE: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' '));

/// Prints rows as a table whose columns line up by display width, so Chinese titles and unit names (two
/// columns a character) align with Latin text.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut table = Table::new();
    table
        .load_style(TABLE_STYLE)
        .set_header(header.to_vec())
        .add_rows(rows.iter().cloned());
    println!("{}", table.trim_fmt());
}

/// A petition deadline's kind, rule, due date and date met, as table cells.
fn deadline_cells(d: &oneledger_proto::common::v1::Deadline) -> Vec<String> {
    vec![
        d.kind.clone(),
        d.article.clone(),
        d.due_on.clone(),
        d.met_on.clone(),
    ]
}

fn item_ref(text: &str) -> anyhow::Result<ItemRef> {
    let item = oneledger_domain::ItemRef::from_key(text).with_context(|| {
        format!("an item is <kind>:<id>, the kind one of petition_matter, dispute, joint_handling, supervision_order; got {text:?}")
    })?;
    Ok((&item).into())
}

/// Runs a ledger command.
pub async fn run_ledger(command: LedgerCommand) -> anyhow::Result<()> {
    match command {
        LedgerCommand::List {
            client,
            filter,
            limit,
        } => list(client, &filter, limit).await,
        LedgerCommand::Watch { client, after } => watch(client, after).await,
        LedgerCommand::Show { client, item } => show(client, item).await,
        LedgerCommand::Stats { client, period } => stats(client, &period).await,
        LedgerCommand::Export {
            client,
            format,
            out,
            filter,
            stats,
            from,
            to,
        } => {
            let what = match (stats, from, to) {
                (true, Some(from), Some(to)) => {
                    pb::export_ledger_request::What::Statistics(statistics_request(&PeriodArgs {
                        from,
                        to,
                        unit: filter.unit.clone(),
                        exclude_imported: false,
                    }))
                }
                _ => pb::export_ledger_request::What::Entries(pb::EntryQuery {
                    filter: Some(entry_filter(&filter)),
                    order_by: entry_order(filter.order) as i32,
                }),
            };
            export(client, format, out, what).await
        }
    }
}

/// The wire filter of the command line's.
pub fn entry_filter(f: &EntryFilterArgs) -> pb::EntryFilter {
    pb::EntryFilter {
        unit_id: f.unit.clone(),
        territory_unit_id: f.territory.clone(),
        stage: 0,
        status: match f.status {
            None => pb::EntryStatus::Unspecified,
            Some(StatusArg::Open) => pb::EntryStatus::Open,
            Some(StatusArg::Closed) => pb::EntryStatus::Closed,
        } as i32,
        min_risk: f.min_risk.map_or(0, |r| {
            oneledger_proto::dispute::v1::RiskLevel::from(match r {
                RiskArg::Low => RiskLevel::Low,
                RiskArg::Medium => RiskLevel::Medium,
                RiskArg::High => RiskLevel::High,
                RiskArg::Major => RiskLevel::Major,
            }) as i32
        }),
        overdue_only: f.overdue,
        due_before: f.due_before.map(wire::date),
        title_contains: f.title.clone(),
    }
}

/// The wire order of the command line's.
pub fn entry_order(order: OrderArg) -> pb::EntryOrder {
    match order {
        OrderArg::Root => pb::EntryOrder::Root,
        OrderArg::NextDue => pb::EntryOrder::NextDue,
        OrderArg::Risk => pb::EntryOrder::Risk,
        OrderArg::LastChange => pb::EntryOrder::LastChange,
        OrderArg::Registered => pb::EntryOrder::Registered,
    }
}

/// A unit as people read it: its name from the directory, else its id; empty when none.
fn unit_name(u: Option<&pb::Unit>) -> String {
    u.map(|u| {
        if u.name.is_empty() {
            u.unit_id.clone()
        } else {
            u.name.clone()
        }
    })
    .unwrap_or_default()
}

/// A unit with its name and id.
fn unit_full(u: Option<&pb::Unit>) -> String {
    match u {
        Some(u) if !u.name.is_empty() => format!("{} ({})", u.name, u.unit_id),
        Some(u) => u.unit_id.clone(),
        None => String::new(),
    }
}

/// An enum value's name without its prefix, lower-cased: `ENTRY_STATUS_OPEN` is `open`.
fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_ascii_lowercase()
}

fn status_text(e: &pb::Entry) -> String {
    short(e.status().as_str_name(), "ENTRY_STATUS_")
}

/// Prints the entries a filter selects, reading pages until `limit`.
async fn list(client: ClientArgs, filter: &EntryFilterArgs, limit: u32) -> anyhow::Result<()> {
    let mut api = ledger(&client).await?;
    let mut entries = Vec::new();
    let mut page_token = String::new();
    let mut total = 0;
    while entries.len() < limit as usize {
        let request = pb::ListEntriesRequest {
            filter: Some(entry_filter(filter)),
            order_by: entry_order(filter.order) as i32,
            page_size: limit.saturating_sub(entries.len() as u32).clamp(1, 200),
            page_token: page_token.clone(),
        };
        let page = api
            .list_entries(authorized(request, &client.token)?)
            .await?
            .into_inner();
        total = page.total_size;
        entries.extend(page.entries);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let root = e.root.as_ref().map(|r| r.id.clone()).unwrap_or_default();
            vec![
                root,
                e.title.chars().take(40).collect(),
                status_text(e),
                unit_name(e.responsible_unit.as_ref()),
                wire::iso(e.next_due_on.as_ref()),
                if e.overdue {
                    "OVERDUE".into()
                } else {
                    String::new()
                },
                open_proposals(e),
                e.items.len().to_string(),
            ]
        })
        .collect();
    table(
        &[
            "root",
            "title",
            "status",
            "responsible unit",
            "next due",
            "",
            "proposals",
            "items",
        ],
        &rows,
    );
    println!("{} of {total}", entries.len());
    Ok(())
}

/// The entry's open supervision proposals, as a count; empty when none.
fn open_proposals(e: &pb::Entry) -> String {
    match e
        .proposals
        .iter()
        .filter(|p| p.status() == pb::ProposalStatus::Open)
        .count()
    {
        0 => String::new(),
        n => n.to_string(),
    }
}

/// Prints changes as they happen, from a cursor.
async fn watch(client: ClientArgs, after: u64) -> anyhow::Result<()> {
    let request = pb::WatchEntriesRequest {
        after_cursor: after,
    };
    let mut changes = ledger(&client)
        .await?
        .watch_entries(authorized(request, &client.token)?)
        .await?
        .into_inner();
    // One line per change as it comes, so no table: the columns of Chinese text (title, responsible
    // unit) come last, where their width cannot push another out of line.
    println!(
        "{:<8}  {:<20}  {:<6}  {:<8}  title · responsible unit",
        "cursor", "root", "status", ""
    );
    while let Some(change) = changes.message().await? {
        let Some(e) = change.entry else { continue };
        let root = e.root.as_ref().map(|r| r.id.clone()).unwrap_or_default();
        println!(
            "{:<8}  {:<20}  {:<6}  {:<8}  {} · {}",
            change.cursor,
            root,
            status_text(&e),
            if e.overdue { "OVERDUE" } else { "" },
            e.title.chars().take(50).collect::<String>(),
            unit_name(e.responsible_unit.as_ref()),
        );
    }
    Ok(())
}

/// Prints one entry: its units, deadlines and timeline.
async fn show(client: ClientArgs, item: String) -> anyhow::Result<()> {
    let request = pb::GetEntryRequest {
        item: Some(item_ref(&item)?),
    };
    let e = ledger(&client)
        .await?
        .get_entry(authorized(request, &client.token)?)
        .await?
        .into_inner()
        .entry
        .context("no entry")?;
    println!(
        "{} — {} ({})",
        e.root.as_ref().map(|r| r.id.as_str()).unwrap_or_default(),
        e.title,
        status_text(&e)
    );
    println!(
        "responsible {}  territorial {}  police {}  risk {}",
        unit_full(e.responsible_unit.as_ref()),
        unit_full(e.territorial_unit.as_ref()),
        unit_full(e.police_station.as_ref()),
        match e.risk_level() {
            oneledger_proto::dispute::v1::RiskLevel::Unspecified => String::new(),
            r => short(r.as_str_name(), "RISK_LEVEL_"),
        }
    );
    if !e.co_handling_units.is_empty() {
        let co: Vec<String> = e
            .co_handling_units
            .iter()
            .map(|u| unit_full(Some(u)))
            .collect();
        println!("co-handling: {}", co.join(", "));
    }
    let items: Vec<String> = e
        .items
        .iter()
        .map(|i| {
            let id = i.item.as_ref().map(|r| r.id.as_str()).unwrap_or_default();
            format!("{id}={}", short(i.stage().as_str_name(), "ITEM_STAGE_"))
        })
        .collect();
    println!("items: {}", items.join(", "));
    if !e.supervision_orders.is_empty() {
        let orders: Vec<String> = e
            .supervision_orders
            .iter()
            .map(|o| {
                let level = match o.escalation() {
                    oneledger_proto::political_legal::v1::Escalation::Unspecified => {
                        "none".to_owned()
                    }
                    l => short(l.as_str_name(), "ESCALATION_"),
                };
                format!("{}={level}", o.order_id)
            })
            .collect();
        println!("supervision: {}", orders.join(", "));
    }
    for flag in &e.possible_repeats {
        println!(
            "{} is a possible repeat of {} (疑似重复信访; a clerk confirms or dismisses it)",
            flag.matter_id, flag.of_matter_id
        );
    }
    println!();
    let deadlines: Vec<Vec<String>> = e
        .deadlines
        .iter()
        .map(|d| {
            let flags = [
                (d.overdue, "OVERDUE"),
                (d.paused, "paused"),
                (d.provisional, "provisional"),
            ];
            let flags: Vec<&str> = flags.iter().filter(|f| f.0).map(|f| f.1).collect();
            vec![
                short(d.kind().as_str_name(), "DEADLINE_KIND_"),
                d.article.clone(),
                wire::iso(d.due_on.as_ref()),
                wire::iso(d.met_on.as_ref()),
                unit_name(d.duty_unit.as_ref()),
                flags.join(" "),
            ]
        })
        .collect();
    table(&["deadline", "rule", "due", "met", "whose", ""], &deadlines);
    if !e.thresholds.is_empty() {
        let passed: Vec<String> = e
            .thresholds
            .iter()
            .map(|t| {
                format!(
                    "{} {} ({})",
                    short(t.kind().as_str_name(), "DEADLINE_KIND_"),
                    short(t.threshold().as_str_name(), "THRESHOLD_"),
                    wire::iso(t.due_on.as_ref())
                )
            })
            .collect();
        println!("deadline watch: {}", passed.join(", "));
    }
    if !e.proposals.is_empty() {
        println!();
        let rows: Vec<Vec<String>> = e
            .proposals
            .iter()
            .map(|p| {
                vec![
                    p.proposal_id.clone(),
                    short(p.status().as_str_name(), "PROPOSAL_STATUS_"),
                    p.article.clone(),
                    unit_name(p.unit.as_ref()),
                    p.reason.chars().take(60).collect(),
                ]
            })
            .collect();
        table(
            &[
                "supervision proposal (督办建议)",
                "status",
                "rule",
                "unit",
                "why",
            ],
            &rows,
        );
    }
    println!();
    let timeline: Vec<Vec<String>> = e
        .timeline
        .iter()
        .map(|l| {
            let at = l
                .occurred_at
                .and_then(|t| {
                    chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
                })
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default();
            vec![at, l.event_type.clone(), unit_name(l.acting_unit.as_ref())]
        })
        .collect();
    table(&["when", "event", "by"], &timeline);
    Ok(())
}

fn statistics_request(p: &PeriodArgs) -> pb::GetStatisticsRequest {
    pb::GetStatisticsRequest {
        from_date: Some(wire::date(p.from)),
        to_date: Some(wire::date(p.to)),
        unit_id: p.unit.clone(),
        exclude_imported: p.exclude_imported,
    }
}

/// Prints a period's statistics: the figures, then one row per unit.
async fn stats(client: ClientArgs, period: &PeriodArgs) -> anyhow::Result<()> {
    let request = statistics_request(period);
    let s = ledger(&client)
        .await?
        .get_statistics(authorized(request, &client.token)?)
        .await?
        .into_inner();
    let rows: Vec<Vec<String>> =
        wire::figure_rows(&s.figures.unwrap_or_default(), &s.rates.unwrap_or_default())
            .into_iter()
            .map(|row| {
                vec![
                    row.name.to_owned(),
                    row.zh.to_owned(),
                    row.value.to_string(),
                ]
            })
            .collect();
    table(&["figure", "", "value"], &rows);
    if !s.units.is_empty() {
        println!();
        let per_unit: Vec<Vec<String>> = s
            .units
            .iter()
            .map(|u| {
                let rates = u.rates.unwrap_or_default();
                vec![
                    unit_name(u.unit.as_ref()),
                    u.matters.to_string(),
                    format!("{:.1}%", rates.on_time_handling_rate * 100.0),
                    u.matters_overdue.to_string(),
                    u.supervision_orders.to_string(),
                    u.supervision_answers_overdue.to_string(),
                ]
            })
            .collect();
        table(
            &[
                "unit",
                "matters",
                "on time",
                "overdue",
                "supervision orders",
                "answers overdue",
            ],
            &per_unit,
        );
    }
    Ok(())
}

/// Writes an export to `out` (or the name the ledger gives, in the current folder).
async fn export(
    client: ClientArgs,
    format: ExportFormatArg,
    out: Option<std::path::PathBuf>,
    what: pb::export_ledger_request::What,
) -> anyhow::Result<()> {
    let request = pb::ExportLedgerRequest {
        format: match format {
            ExportFormatArg::Xlsx => pb::ExportFormat::Xlsx,
            ExportFormatArg::Csv => pb::ExportFormat::Csv,
        } as i32,
        what: Some(what),
    };
    let file = ledger(&client)
        .await?
        .export_ledger(authorized(request, &client.token)?)
        .await?
        .into_inner();
    let path = out.unwrap_or_else(|| std::path::PathBuf::from(&file.file_name));
    std::fs::write(&path, &file.content).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "{}: {} rows, ledger cursor {}, export {}",
        path.display(),
        file.rows,
        file.as_of_cursor,
        file.export_id
    );
    Ok(())
}

/// Runs a petitioner's status lookup.
pub async fn petition_status(args: PetitionStatusArgs) -> anyhow::Result<()> {
    let mut client = PetitionServiceClient::connect(args.address.clone())
        .await
        .with_context(|| format!("connecting to {}", args.address))?;
    let status = client
        .get_public_status(GetPublicStatusRequest {
            receipt_number: args.receipt,
            query_code: args.code,
        })
        .await?
        .into_inner();
    println!("stage: {}", status.stage);
    println!("responsible unit: {}", status.responsible_unit_id);
    let rows: Vec<Vec<String>> = status.deadlines.iter().map(deadline_cells).collect();
    table(&["deadline", "rule", "due", "met"], &rows);
    for reply in &status.replies {
        println!("reply delivered: {reply}");
    }
    if !status.notice.is_empty() {
        println!("notice: {}", status.notice);
    }
    Ok(())
}
