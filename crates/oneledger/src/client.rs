//! A client for people: the ledger (list, show, watch, stats) and a petition's public status, readable.

use anyhow::Context;
use comfy_table::{LineStyle, Table, TableStyle};
use oneledger_proto::common::v1::ItemRef;
use oneledger_proto::ledger::v1::{self as pb, ledger_service_client::LedgerServiceClient};
use oneledger_proto::petition::v1::{
    GetPublicStatusRequest, petition_service_client::PetitionServiceClient,
};

use crate::config::{ClientArgs, LedgerCommand, PetitionStatusArgs};

fn authorized<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    oneledger_services::auth::authorized(message, token).context("--token")
}

async fn ledger(
    client: &ClientArgs,
) -> anyhow::Result<LedgerServiceClient<tonic::transport::Channel>> {
    LedgerServiceClient::connect(client.address.clone())
        .await
        .with_context(|| format!("connecting to {}", client.address))
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

/// A deadline's kind, rule, due date and date met, as table cells.
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
            unit,
            status,
            overdue,
            limit,
        } => list(client, unit, status, overdue, limit).await,
        LedgerCommand::Watch { client, after } => watch(client, after).await,
        LedgerCommand::Show { client, item } => show(client, item).await,
        LedgerCommand::Stats {
            client,
            from,
            to,
            unit,
            exclude_imported,
        } => stats(client, (from, to), unit, exclude_imported).await,
    }
}

/// Prints the entries a filter selects.
async fn list(
    client: ClientArgs,
    unit: String,
    status: String,
    overdue: bool,
    limit: u32,
) -> anyhow::Result<()> {
    let request = pb::ListEntriesRequest {
        unit_id: unit,
        status,
        overdue_only: overdue,
        page_size: limit.clamp(1, 200),
        ..Default::default()
    };
    let entries = ledger(&client)
        .await?
        .list_entries(authorized(request, &client.token)?)
        .await?
        .into_inner()
        .entries;
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let root = e.root.as_ref().map(|r| r.id.clone()).unwrap_or_default();
            let next_due = e
                .deadlines
                .iter()
                .filter(|d| d.met_on.is_empty())
                .map(|d| d.due_on.clone())
                .min()
                .unwrap_or_default();
            vec![
                root,
                e.title.chars().take(40).collect(),
                e.status.clone(),
                named(&e.unit_names, &e.responsible_unit_id),
                next_due,
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
    Ok(())
}

/// The entry's open supervision proposals, as a count; empty when none.
fn open_proposals(e: &pb::Entry) -> String {
    match e.proposals.iter().filter(|p| p.status == "open").count() {
        0 => String::new(),
        n => n.to_string(),
    }
}

/// A unit as people read it: its name from the directory, else its id.
fn named(names: &std::collections::HashMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| id.to_owned())
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
            e.status,
            if e.overdue { "OVERDUE" } else { "" },
            e.title.chars().take(50).collect::<String>(),
            named(&e.unit_names, &e.responsible_unit_id),
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
        e.status
    );
    let unit = |id: &str| match e.unit_names.get(id) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_owned(),
    };
    println!(
        "responsible {}  territorial {}  police {}  risk {}",
        unit(&e.responsible_unit_id),
        unit(&e.territorial_unit_id),
        unit(&e.police_station_id),
        e.risk_level
    );
    if !e.co_handling_unit_ids.is_empty() {
        let co: Vec<String> = e.co_handling_unit_ids.iter().map(|u| unit(u)).collect();
        println!("co-handling: {}", co.join(", "));
    }
    println!("items: {}", e.stages.join(", "));
    if !e.supervision_orders.is_empty() {
        println!("supervision: {}", e.supervision_orders.join(", "));
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
            let mut cells = deadline_cells(d);
            cells.push(named(&e.unit_names, &d.duty_unit_id));
            let flags = [
                (d.overdue, "OVERDUE"),
                (d.paused, "paused"),
                (d.provisional, "provisional"),
            ];
            let flags: Vec<&str> = flags.iter().filter(|f| f.0).map(|f| f.1).collect();
            cells.push(flags.join(" "));
            cells
        })
        .collect();
    table(&["deadline", "rule", "due", "met", "whose", ""], &deadlines);
    if !e.thresholds.is_empty() {
        let passed: Vec<String> = e
            .thresholds
            .iter()
            .map(|t| format!("{} {} ({})", t.kind, t.threshold, t.due_on))
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
                    p.status.clone(),
                    p.article.clone(),
                    named(&e.unit_names, &p.unit_id),
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
            vec![
                l.occurred_at.clone(),
                l.event_type.clone(),
                named(&e.unit_names, &l.acting_unit_id),
            ]
        })
        .collect();
    table(&["when", "event", "by"], &timeline);
    Ok(())
}

/// Prints a period's statistics.
async fn stats(
    client: ClientArgs,
    (from, to): (String, String),
    unit: String,
    exclude_imported: bool,
) -> anyhow::Result<()> {
    let request = pb::GetStatisticsRequest {
        from_date: from,
        to_date: to,
        unit_id: unit,
        exclude_imported,
    };
    let s = ledger(&client)
        .await?
        .get_statistics(authorized(request, &client.token)?)
        .await?
        .into_inner();
    let mut rows: Vec<Vec<String>> = s
        .counts
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    rows.extend(
        s.rates
            .iter()
            .map(|(k, v)| vec![k.clone(), format!("{:.1}%", v * 100.0)]),
    );
    rows.sort();
    table(&["figure", "value"], &rows);
    if !s.orders_per_unit.is_empty() {
        println!();
        let mut per_unit: Vec<Vec<String>> = s
            .orders_per_unit
            .iter()
            .map(|(k, v)| vec![named(&s.unit_names, k), k.clone(), v.to_string()])
            .collect();
        per_unit.sort();
        table(&["unit", "id", "supervision orders"], &per_unit);
    }
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
