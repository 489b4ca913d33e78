//! `oneledger admin`: what an operator reads and does, straight against the databases (run it where it
//! can reach them; the processes may be running). `status` puts each feed's checkpoint beside its store's
//! head and each relay's published position, with the leases, the parked events and the calendar's
//! coverage; `parked list|drop` shows and settles events the projector could not apply, each drop
//! recorded with the event itself.

use anyhow::{Context, bail};
use oneledger_domain::Agency;
use oneledger_projector::SqlLedger;
use oneledger_projector::ledger::ParkedAction;
use oneledger_proto::convert::bounded;

use crate::client::table;
use crate::config::{AdminCommand, ParkedCommand, ParkedEventArgs, RulesArgs, SystemArgs};

/// Runs an operator's command.
pub async fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Status { system, rules } => status(&system, &rules).await,
        AdminCommand::Parked(ParkedCommand::List { system }) => list(&system).await,
        AdminCommand::Parked(ParkedCommand::Drop(event)) => {
            let action = action(&event, "drop")?;
            drop_parked(&event.system, event.agency.into(), event.position, &action).await
        }
        AdminCommand::Parked(ParkedCommand::Retry(event)) => {
            let action = action(&event, "retry")?;
            retry_parked(&event.system, event.agency.into(), event.position, &action).await
        }
    }
}

/// What is recorded of an operator's `kind` of action on a parked event.
fn action(event: &ParkedEventArgs, kind: &str) -> anyhow::Result<ParkedAction> {
    Ok(ParkedAction {
        operator: required("--operator", &event.operator)?,
        action: kind.into(),
        why: required("--why", &event.why)?,
    })
}

fn required(flag: &str, value: &str) -> anyhow::Result<String> {
    match value.trim() {
        "" => bail!("{flag} is required: it is recorded with what was done"),
        v => Ok(v.to_owned()),
    }
}

async fn ledger(system: &SystemArgs) -> anyhow::Result<SqlLedger> {
    let url = system.ledger_url()?;
    SqlLedger::connect(&url)
        .await
        .with_context(|| format!("opening the ledger at {}", redacted(&url)))
}

/// A database URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &url[scheme + 3..at];
            let user = user.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

async fn status(system: &SystemArgs, rules: &RulesArgs) -> anyhow::Result<()> {
    let ledger = ledger(system).await?;
    let checkpoints = ledger.checkpoints().await?;
    let mut feeds = Vec::new();
    let mut relays = Vec::new();
    let mut leases = Vec::new();
    for (agency, url) in system.store_urls() {
        let store = oneledger_store::connect(&url)
            .await
            .with_context(|| format!("opening the {agency} store at {}", redacted(&url)))?;
        let head = store.head().await?;
        let spec = oneledger_bus::StreamSpec::for_agency(agency);
        // The ledger reads a store directly (`up` without a broker) or its stream (with NATS): the feed
        // it has a checkpoint of, else the one its layout implies, at 0.
        let store_feed = format!("store:{agency}");
        let stream_feed = format!("jetstream:{}", spec.name);
        let checkpoint = |feed: &str| {
            checkpoints
                .iter()
                .find(|(n, _)| n == feed)
                .map(|(_, at)| *at)
        };
        let (feed, at) = match (checkpoint(&store_feed), checkpoint(&stream_feed)) {
            (Some(at), _) => (store_feed, at),
            (None, Some(at)) => (stream_feed, at),
            (None, None) if system.data_dir.is_some() => (store_feed, 0),
            (None, None) => (stream_feed, 0),
        };
        feeds.push(vec![
            feed,
            at.to_string(),
            head.to_string(),
            head.saturating_sub(at).to_string(),
        ]);
        let relay = format!("relay:{}", spec.name);
        let published = store.checkpoint(&relay).await?;
        relays.push(vec![
            agency.to_string(),
            head.to_string(),
            published.to_string(),
            head.saturating_sub(published).to_string(),
        ]);
        for lease in store.leases().await? {
            let left = lease.expires_at - chrono::Utc::now();
            let state = match left.num_seconds() {
                s if s > 0 => format!("held, {s} s left"),
                _ => "lapsed".to_owned(),
            };
            leases.push(vec![agency.to_string(), lease.name, lease.holder, state]);
        }
    }
    println!("projector feeds");
    table(&["feed", "checkpoint", "store head", "behind"], &feeds);
    println!(
        "\nrelays (a store's events published to its JetStream stream; 0 published without NATS)"
    );
    table(&["agency", "store head", "published", "behind"], &relays);
    println!("\nleases");
    table(&["store", "lease", "holder", "state"], &leases);
    println!(
        "\nparked events: {} (oneledger admin parked list)",
        ledger.parked_count().await?
    );
    let calendar = rules.load()?.calendar;
    let coverage = calendar.coverage();
    let today = oneledger_domain::clock::legal_date(chrono::Utc::now());
    println!(
        "calendar: {}–{} ({}){}",
        coverage.first_year,
        coverage.last_year,
        coverage.source,
        coverage
            .warning(today)
            .map(|w| format!("\n  {w}"))
            .unwrap_or_default()
    );
    Ok(())
}

async fn list(system: &SystemArgs) -> anyhow::Result<()> {
    let ledger = ledger(system).await?;
    let parked = ledger.parked().await?;
    let rows: Vec<Vec<String>> = parked
        .iter()
        .map(|p| {
            vec![
                p.agency.to_string(),
                p.position.to_string(),
                p.event_type.clone(),
                bounded(&p.reason),
            ]
        })
        .collect();
    println!("{} parked", rows.len());
    table(
        &["agency", "position", "event type", "why it was parked"],
        &rows,
    );
    let actions = ledger.parked_actions().await?;
    if !actions.is_empty() {
        let rows: Vec<Vec<String>> = actions
            .into_iter()
            .map(|(at, a, agency, position)| {
                vec![
                    at,
                    a.action,
                    format!("{agency} {position}"),
                    a.operator,
                    a.why,
                ]
            })
            .collect();
        println!("\nwhat operators did");
        table(&["when (UTC)", "action", "event", "operator", "why"], &rows);
    }
    Ok(())
}

/// The refusal of an action on an event that is not parked, naming the flag.
fn not_parked(agency: Agency, position: u64) -> anyhow::Error {
    anyhow::anyhow!(
        "--position: no event of the {agency} store at position {position} is parked (oneledger admin parked list)"
    )
}

async fn drop_parked(
    system: &SystemArgs,
    agency: Agency,
    position: u64,
    action: &ParkedAction,
) -> anyhow::Result<()> {
    let ledger = ledger(system).await?;
    if !ledger.drop_parked(agency, position, action).await? {
        return Err(not_parked(agency, position));
    }
    println!(
        "dropped the parked {agency} event at {position}; recorded as {}'s, why: {}",
        action.operator, action.why
    );
    Ok(())
}

/// Reads the parked event's item stream from its store and, if this binary reads every event of it now,
/// projects the stream again and records the retry; writes nothing otherwise.
async fn retry_parked(
    system: &SystemArgs,
    agency: Agency,
    position: u64,
    action: &ParkedAction,
) -> anyhow::Result<()> {
    let ledger = ledger(system).await?;
    if !ledger
        .parked()
        .await?
        .iter()
        .any(|p| p.agency == agency && p.position == position)
    {
        return Err(not_parked(agency, position));
    }
    let (_, url) = system
        .store_urls()
        .into_iter()
        .find(|(a, _)| *a == agency)
        .with_context(|| format!("--store {agency}=<url> is needed to read the event"))?;
    let store = oneledger_store::connect(&url)
        .await
        .with_context(|| format!("opening the {agency} store at {}", redacted(&url)))?;
    let event = store
        .read_all(position, 1)
        .await?
        .into_iter()
        .find(|e| e.position == position)
        .with_context(|| format!("the {agency} store has no event at {position}"))?;
    let mut stream = Vec::new();
    loop {
        let from = stream
            .last()
            .map_or(1, |e: &oneledger_store::RecordedEvent| e.stream_version + 1);
        let page = store.read_stream(&event.stream_id, from, 1000).await?;
        if page.is_empty() {
            break;
        }
        stream.extend(page);
    }
    // Checked first, so a retry this binary cannot carry out writes nothing.
    let mut model = oneledger_projector::model::LedgerModel::default();
    for e in &stream {
        if let Err(refused) = model.apply(e) {
            bail!(
                "still cannot be applied by this binary ({} at {}): {}",
                refused.event_type,
                refused.position,
                bounded(&refused.reason)
            );
        }
    }
    let outcome = ledger.replay_stream(&stream).await?;
    ledger.drop_parked(agency, position, action).await?;
    println!(
        "projected {} events of {} again (the parked one included); recorded as {}'s retry, why: {}",
        outcome.applied, event.stream_id, action.operator, action.why
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_in_a_message_shows_its_user_but_never_its_password() {
        assert_eq!(
            redacted("postgres://oneledger:s3cret@db.example:5432/ledger"),
            "postgres://oneledger@db.example:5432/ledger"
        );
        assert_eq!(
            redacted("sqlite://data/ledger.db"),
            "sqlite://data/ledger.db"
        );
    }
}
