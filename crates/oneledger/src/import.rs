//! `oneledger import FILE`: a district's existing petition ledger (信访事项台账), CSV or XLSX with the
//! shipped template's Chinese headers (`docs/import/petition-matters.csv`), brought in through the
//! petition service's import API with its real dates.
//!
//! The whole file is checked first (a dry run: every error, each with its row, column and rule, and
//! nothing written); only a file without errors is imported, in batches, with a progress bar. A row
//! imported before (by its 来源编号) writes nothing again, so a run that stopped is simply run again.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use calamine::{Data, Reader};
use indicatif::{ProgressBar, ProgressStyle};
use oneledger_domain::Agency;
use oneledger_proto::petition::v1::{self as pb, petition_service_client::PetitionServiceClient};
use oneledger_services::Role;
use sha2::{Digest, Sha256};

use crate::config::ImportArgs;
use crate::demo::{connect, demo_token, list_units};

/// The template's columns: the header a district's ledger gives each, and what it fills.
const COLUMNS: [(&str, Column); 21] = [
    ("来源编号", Column::SourceRowId),
    ("登记日期", Column::RegisteredOn),
    ("信访形式", Column::Channel),
    ("诉求类别", Column::ClaimClass),
    ("标题", Column::Title),
    ("事项分类", Column::Category),
    ("信访人", Column::Name),
    ("身份证号码", Column::IdNumber),
    ("联系电话", Column::Phone),
    ("人数", Column::CollectiveSize),
    ("发生地", Column::Territory),
    ("被反映单位", Column::Respondent),
    ("交办日期", Column::AssignedOn),
    ("责任单位", Column::Responsible),
    ("属地单位", Column::Territorial),
    ("接收日期", Column::ReceivedOn),
    ("告知日期", Column::NoticeSentOn),
    ("受理日期", Column::AcceptedOn),
    ("答复日期", Column::OpinionOn),
    ("办理结果", Column::HandlingOutcome),
    ("送达日期", Column::DeliveredOn),
];

/// Columns a file must have; the others may be left out.
const REQUIRED: [&str; 7] = [
    "来源编号",
    "登记日期",
    "信访形式",
    "诉求类别",
    "标题",
    "信访人",
    "发生地",
];

/// Rows per request to the service.
pub(crate) const BATCH: usize = 200;

/// What a column fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    SourceRowId,
    RegisteredOn,
    Channel,
    ClaimClass,
    Title,
    Category,
    Name,
    IdNumber,
    Phone,
    CollectiveSize,
    Territory,
    Respondent,
    AssignedOn,
    Responsible,
    Territorial,
    ReceivedOn,
    NoticeSentOn,
    AcceptedOn,
    OpinionOn,
    HandlingOutcome,
    DeliveredOn,
}

impl Column {
    /// The import API's field this column fills: how the service names it in an error.
    fn field(self) -> &'static str {
        match self {
            Column::SourceRowId => "source_row_id",
            Column::RegisteredOn => "registered_on",
            Column::Channel => "channel",
            Column::ClaimClass => "claim_class",
            Column::Title => "title",
            Column::Category => "category",
            Column::Name | Column::IdNumber | Column::Phone => "petitioners",
            Column::CollectiveSize => "collective_size",
            Column::Territory => "territory_unit_id",
            Column::Respondent => "respondent_unit_id",
            Column::AssignedOn => "assigned_on",
            Column::Responsible => "responsible_unit_id",
            Column::Territorial => "territorial_unit_id",
            Column::ReceivedOn => "received_on",
            Column::NoticeSentOn => "notice_sent_on",
            Column::AcceptedOn => "accepted_on",
            Column::OpinionOn => "opinion_on",
            Column::HandlingOutcome => "handling_outcome",
            Column::DeliveredOn => "delivered_on",
        }
    }
}

/// A file read: its header and its rows, each with its line (the header is line 1).
pub(crate) struct Sheet {
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<(u32, Vec<String>)>,
}

/// One error of the file, as a person fixing the file reads it.
pub(crate) struct RowError {
    pub(crate) row: u32,
    pub(crate) column: String,
    pub(crate) rule: String,
    pub(crate) message: String,
}

/// Runs the import: a dispute ledger when its header has 排查日期, a supervision ledger when it has
/// 督办事项来源编号, a joint-handling ledger when it has 处置事项来源编号, a petition ledger otherwise.
pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let sheet = read_sheet(&args.file, &bytes)?;
    let issuer = args.signing.issuer(&args.district)?;
    if sheet.header.iter().any(|h| h.trim() == "排查日期") {
        return crate::import_committee::run::<crate::import_committee::DisputeLedger>(
            &args, &issuer, &sha, &sheet,
        )
        .await;
    }
    if sheet.header.iter().any(|h| h.trim() == "督办事项来源编号") {
        return crate::import_committee::run::<crate::import_committee::OrderLedger>(
            &args, &issuer, &sha, &sheet,
        )
        .await;
    }
    if sheet.header.iter().any(|h| h.trim() == "处置事项来源编号") {
        return crate::import_committee::run::<crate::import_joint::JointLedger>(
            &args, &issuer, &sha, &sheet,
        )
        .await;
    }
    let columns = columns(&sheet.header)?;
    let office = args
        .unit
        .clone()
        .unwrap_or_else(|| format!("{}.petition_office", args.district));
    let token = demo_token(
        &issuer,
        Agency::Petition,
        &office,
        &[Role::Importer, Role::Viewer],
    )?;
    let units = unit_ids(&args.ledger_address, &token).await?;

    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(sheet.rows.len());
    for (line, cells) in &sheet.rows {
        match matter(*line, cells, &columns, &units) {
            Ok(m) => rows.push(m),
            Err(e) => errors.push(e),
        }
    }
    let client = PetitionServiceClient::new(connect(&args.petition_address).await?);
    let mut target = Matters {
        client,
        token,
        columns,
    };
    check_then_import(&mut target, &args, &sha, &rows, errors, sheet.rows.len()).await
}

/// Where a ledger's rows go, and what its service answers of them: a petition ledger or a dispute
/// ledger, driven alike by [`check_then_import`].
pub(crate) trait Target {
    /// A row as the import API takes it.
    type Row: Clone;
    /// What the import API answers of a batch.
    type Answer;
    /// What the rows are, in the summary: "matters", "disputes".
    const WHAT: &'static str;
    /// Sends a batch, checking it only on a dry run.
    async fn send(
        &mut self,
        sha: &str,
        rows: &[Self::Row],
        dry_run: bool,
    ) -> anyhow::Result<Self::Answer>;
    /// The service's errors of the batch, by column.
    fn errors(&self, answer: &Self::Answer) -> Vec<RowError>;
    /// Rows written now, and rows imported before.
    fn counts(answer: &Self::Answer) -> (usize, usize);
}

/// The whole file checked first (every row, nothing written); a file with errors lists them and stops;
/// then imported in batches. `errors` are those of the rows' own text, found before sending.
pub(crate) async fn check_then_import<T: Target>(
    target: &mut T,
    args: &ImportArgs,
    sha: &str,
    rows: &[T::Row],
    mut errors: Vec<RowError>,
    file_rows: usize,
) -> anyhow::Result<()> {
    let total = rows.len() as u64;
    let bar = progress(total, "checking");
    for batch in rows.chunks(BATCH) {
        let answer = target.send(sha, batch, true).await?;
        errors.extend(target.errors(&answer));
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    errors.sort_by_key(|e| e.row);
    if !errors.is_empty() || args.dry_run {
        print_errors(&errors);
        let bad: std::collections::BTreeSet<u32> = errors.iter().map(|e| e.row).collect();
        println!(
            "{}: {file_rows} rows, {} with errors; nothing written{}",
            args.file.display(),
            bad.len(),
            if args.dry_run { " (dry run)" } else { "" }
        );
        if errors.is_empty() {
            return Ok(());
        }
        bail!("the file has errors: fix them and run again");
    }
    let bar = progress(total, "importing");
    let (mut written, mut again) = (0usize, 0usize);
    for batch in rows.chunks(BATCH) {
        let answer = target.send(sha, batch, false).await?;
        let refused = target.errors(&answer);
        if !refused.is_empty() {
            // Checked a moment ago: only what changed since (a unit ended, a row imported by
            // another run with other contents) lands here.
            print_errors(&refused);
            bail!("rows were refused while importing; the rows before them are imported");
        }
        let (w, a) = T::counts(&answer);
        (written, again) = (written + w, again + a);
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    println!(
        "{}: {written} {} imported, {again} imported before (nothing written again); sha256 {sha}",
        args.file.display(),
        T::WHAT
    );
    Ok(())
}

/// A petition ledger's rows, to the petition service.
struct Matters {
    client: PetitionServiceClient<tonic::transport::Channel>,
    token: String,
    columns: Vec<Option<Column>>,
}

impl Target for Matters {
    type Row = pb::ImportedMatter;
    type Answer = pb::ImportMattersResponse;
    const WHAT: &'static str = "matters";

    async fn send(
        &mut self,
        sha: &str,
        rows: &[Self::Row],
        dry_run: bool,
    ) -> anyhow::Result<Self::Answer> {
        send(&mut self.client, &self.token, sha, rows, dry_run).await
    }

    fn errors(&self, answer: &Self::Answer) -> Vec<RowError> {
        row_errors(answer, &self.columns)
    }

    fn counts(answer: &Self::Answer) -> (usize, usize) {
        let written = answer.rows.iter().filter(|r| r.written).count();
        (
            written,
            answer.rows.iter().filter(|r| r.already_imported).count(),
        )
    }
}

async fn send(
    client: &mut PetitionServiceClient<tonic::transport::Channel>,
    token: &str,
    sha: &str,
    rows: &[pb::ImportedMatter],
    dry_run: bool,
) -> anyhow::Result<pb::ImportMattersResponse> {
    let request = pb::ImportMattersRequest {
        file_sha256: sha.to_owned(),
        dry_run,
        rows: rows.to_vec(),
    };
    Ok(client
        .import_matters(oneledger_services::auth::authorized(request, token)?)
        .await
        .context("the petition service's import")?
        .into_inner())
}

pub(crate) fn progress(total: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows, {per_sec}")
    {
        bar.set_style(style.progress_chars("#>-"));
    }
    bar.set_message(what);
    bar
}

/// The file as rows of text: CSV (UTF-8, a BOM allowed) or the first sheet of an XLSX workbook.
fn read_sheet(path: &Path, bytes: &[u8]) -> anyhow::Result<Sheet> {
    let xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xls"));
    let mut lines: Vec<Vec<String>> = if xlsx {
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
            .with_context(|| format!("{} is not a workbook", path.display()))?;
        let range = book
            .worksheet_range_at(0)
            .context("the workbook has no sheet")?
            .with_context(|| format!("reading the first sheet of {}", path.display()))?;
        range
            .rows()
            .map(|r| r.iter().map(cell_text).collect())
            .collect()
    } else {
        let text = std::str::from_utf8(bytes).with_context(|| {
            format!(
                "{} is not UTF-8 text (save the CSV as UTF-8)",
                path.display()
            )
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let mut lines = Vec::new();
        for record in reader.records() {
            let record = record.with_context(|| format!("reading {}", path.display()))?;
            lines.push(record.iter().map(|c| c.trim().to_owned()).collect());
        }
        lines
    };
    if lines.is_empty() {
        bail!(
            "{} is empty: its first row must be the template's header",
            path.display()
        );
    }
    let header = lines.remove(0);
    let rows = lines
        .into_iter()
        .enumerate()
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
        .map(|(i, cells)| (u32::try_from(i + 2).unwrap_or(u32::MAX), cells))
        .collect();
    Ok(Sheet { header, rows })
}

/// A cell as text: dates as ISO dates, whole numbers without a decimal point.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| t.date().to_string())
            .unwrap_or_default(),
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_owned(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Empty => String::new(),
        other => other.to_string().trim().to_owned(),
    }
}

/// Where each column stands in the header; refuses a header missing a required column, naming an
/// unknown one or naming one twice.
fn columns(header: &[String]) -> anyhow::Result<Vec<Option<Column>>> {
    let mut seen = Vec::new();
    let mut out = Vec::with_capacity(header.len());
    for name in header {
        let name = name.trim().trim_start_matches('\u{feff}');
        let Some((_, column)) = COLUMNS.iter().find(|(h, _)| *h == name) else {
            bail!(
                "unknown column {name:?}: the template's columns are {}",
                COLUMNS.map(|(h, _)| h).join("、")
            );
        };
        if seen.contains(column) {
            bail!("column {name:?} appears twice");
        }
        seen.push(*column);
        out.push(Some(*column));
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|h| {
            !header
                .iter()
                .any(|x| x.trim().trim_start_matches('\u{feff}') == **h)
        })
        .copied()
        .collect();
    if !missing.is_empty() {
        bail!("the file lacks the column(s) {}", missing.join("、"));
    }
    Ok(out)
}

/// The directory's units by id and by Chinese name, so a ledger may name a unit either way.
pub(crate) async fn unit_ids(
    address: &str,
    token: &str,
) -> anyhow::Result<HashMap<String, String>> {
    let mut ids = HashMap::new();
    for unit in list_units(address, token, true).await? {
        ids.insert(unit.name.clone(), unit.unit_id.clone());
        ids.insert(unit.unit_id.clone(), unit.unit_id);
    }
    Ok(ids)
}

/// A row as the import API takes it; the first error of the row's own text (a label not in the
/// template's list, a unit the directory does not know, a count that is no number).
fn matter(
    line: u32,
    cells: &[String],
    columns: &[Option<Column>],
    units: &HashMap<String, String>,
) -> Result<pb::ImportedMatter, RowError> {
    let mut m = pb::ImportedMatter {
        row: line,
        ..Default::default()
    };
    let mut petitioner = pb::Petitioner::default();
    for (i, column) in columns.iter().enumerate() {
        let (Some(column), Some(value)) = (column, cells.get(i)) else {
            continue;
        };
        let header = COLUMNS
            .iter()
            .find(|(_, c)| c == column)
            .map_or("", |(h, _)| *h);
        let cell = Cell::new(line, header, value);
        let value = cell.value;
        let bad = |message| cell.bad(message);
        let unit = || cell.unit(units);
        match column {
            Column::SourceRowId => m.source_row_id = value.to_owned(),
            Column::RegisteredOn => m.registered_on = value.to_owned(),
            Column::Channel => m.channel = label(value, CHANNELS).map_err(bad)?,
            Column::ClaimClass => m.claim_class = label(value, CLASSES).map_err(bad)?,
            Column::Title => m.title = value.to_owned(),
            Column::Category => m.category = value.to_owned(),
            Column::Name => petitioner.name = value.to_owned(),
            Column::IdNumber => petitioner.id_number = value.to_owned(),
            Column::Phone => petitioner.phone = value.to_owned(),
            Column::CollectiveSize => m.collective_size = cell.people()?,
            Column::Territory => m.territory_unit_id = unit()?,
            Column::Respondent => m.respondent_unit_id = unit()?,
            Column::AssignedOn => m.assigned_on = value.to_owned(),
            Column::Responsible => m.responsible_unit_id = unit()?,
            Column::Territorial => m.territorial_unit_id = unit()?,
            Column::ReceivedOn => m.received_on = value.to_owned(),
            Column::NoticeSentOn => m.notice_sent_on = value.to_owned(),
            Column::AcceptedOn => m.accepted_on = value.to_owned(),
            Column::OpinionOn => m.opinion_on = value.to_owned(),
            Column::HandlingOutcome => {
                if !value.is_empty() {
                    m.handling_outcome = label(value, OUTCOMES).map_err(bad)?;
                }
            }
            Column::DeliveredOn => m.delivered_on = value.to_owned(),
        }
    }
    if m.collective_size == 0 {
        m.collective_size = 1;
    }
    m.petitioners = vec![petitioner];
    Ok(m)
}

/// 信访形式 as a ledger writes it.
const CHANNELS: &[(&str, i32)] = &[
    ("来访", pb::Channel::Visit as i32),
    ("走访", pb::Channel::Visit as i32),
    ("来信", pb::Channel::Letter as i32),
    ("网上", pb::Channel::Online as i32),
    ("网上信访", pb::Channel::Online as i32),
    ("电话", pb::Channel::Phone as i32),
];

/// 诉求类别 as a ledger writes it.
const CLASSES: &[(&str, i32)] = &[
    ("申诉求决", pb::ClaimClass::Claim as i32),
    ("建议意见", pb::ClaimClass::Suggestion as i32),
    ("检举控告", pb::ClaimClass::Accusation as i32),
];

/// 办理结果 as a ledger writes it.
const OUTCOMES: &[(&str, i32)] = &[
    ("支持", pb::Outcome::Supported as i32),
    ("解释说明", pb::Outcome::Explained as i32),
    ("不予支持", pb::Outcome::NotSupported as i32),
];

/// One cell of a row as the import reads it: its line and header name its errors.
pub(crate) struct Cell<'a> {
    line: u32,
    header: &'a str,
    /// Its text, trimmed.
    pub(crate) value: &'a str,
}

impl<'a> Cell<'a> {
    pub(crate) fn new(line: u32, header: &'a str, value: &'a str) -> Self {
        Cell {
            line,
            header,
            value: value.trim(),
        }
    }

    /// An error of this cell.
    pub(crate) fn bad(&self, message: String) -> RowError {
        RowError {
            row: self.line,
            column: self.header.to_owned(),
            rule: String::new(),
            message,
        }
    }

    /// The id of the unit named `name` (or by its id) in this cell, which the directory must know.
    pub(crate) fn unit_named(
        &self,
        name: &str,
        units: &HashMap<String, String>,
    ) -> Result<String, RowError> {
        units
            .get(name)
            .cloned()
            .ok_or_else(|| self.bad(format!("{name:?} is no unit of the district's directory")))
    }

    /// The id of the unit the cell names; empty when it names none.
    pub(crate) fn unit(&self, units: &HashMap<String, String>) -> Result<String, RowError> {
        match self.value {
            "" => Ok(String::new()),
            name => self.unit_named(name, units),
        }
    }

    /// A number of people; one when empty.
    pub(crate) fn people(&self) -> Result<u32, RowError> {
        match self.value {
            "" => Ok(1),
            v => v
                .parse()
                .map_err(|_| self.bad(format!("{v:?} is not a number of people"))),
        }
    }
}

pub(crate) fn label(value: &str, labels: &[(&str, i32)]) -> Result<i32, String> {
    labels
        .iter()
        .find(|(l, _)| *l == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let allowed: Vec<&str> = labels.iter().map(|(l, _)| *l).collect();
            format!("{value:?} is not one of {}", allowed.join("、"))
        })
}

/// The service's errors for the rows of `answer`, each named by its column.
fn row_errors(answer: &pb::ImportMattersResponse, columns: &[Option<Column>]) -> Vec<RowError> {
    let header_of = |field: &str| {
        COLUMNS
            .iter()
            .find(|(_, c)| c.field() == field && columns.contains(&Some(*c)))
            .map_or_else(|| field.to_owned(), |(h, _)| (*h).to_owned())
    };
    answer
        .rows
        .iter()
        .flat_map(|r| {
            r.errors.iter().map(move |e| RowError {
                row: r.row,
                column: header_of(&e.field),
                rule: e.rule.clone(),
                message: e.message.clone(),
            })
        })
        .collect()
}

pub(crate) fn print_errors(errors: &[RowError]) {
    if errors.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = errors
        .iter()
        .map(|e| {
            vec![
                e.row.to_string(),
                e.column.clone(),
                e.rule.clone(),
                e.message.clone(),
            ]
        })
        .collect();
    crate::client::table(&["row", "column", "rule", "error"], &rows);
}
