//! `oneledger import` of the committee's ledgers, checked whole first like a petition ledger: a dispute
//! ledger (矛盾纠纷台账, template `docs/import/disputes.csv`) and a supervision ledger (督办台账,
//! `docs/import/supervision-orders.csv`: orders about items imported before, named by their own 来源编号),
//! both through the political-legal committee's import API.

use std::collections::HashMap;

use anyhow::{Context, bail};
use oneledger_domain::Agency;
use oneledger_proto::common::v1::{ImportError, ItemKind};
use oneledger_proto::dispute::v1 as dispute;
use oneledger_proto::political_legal::v1::{
    self as pb, political_legal_service_client::PoliticalLegalServiceClient,
};
use oneledger_services::{DevIssuer, Role};
use tonic::transport::Channel;

use crate::config::ImportArgs;
use crate::demo::{connect, demo_token};
use crate::import::{Cell, RowError, Sheet, Target, check_then_import, label, unit_ids};

/// One of the committee's ledgers: its columns, its rows, its import call.
pub(crate) trait Ledger {
    /// A row as the import API takes it.
    type Row: Clone;
    /// The API's answer of a batch.
    type Answer;
    /// What the rows are: "disputes", "orders".
    const WHAT: &'static str;
    /// Each header and the API's field it fills.
    const COLUMNS: &'static [(&'static str, &'static str)];
    /// Fields a file must have.
    const REQUIRED: &'static [&'static str];
    /// A row of the file as the API takes it, or the first error of its own text.
    fn row(
        line: u32,
        cells: &[String],
        fields: &[&'static str],
        units: &HashMap<String, String>,
    ) -> Result<Self::Row, RowError>;
    /// Sends a batch.
    async fn send(
        client: &mut PoliticalLegalServiceClient<Channel>,
        request: tonic::Request<(String, bool, Vec<Self::Row>)>,
    ) -> Result<Self::Answer, tonic::Status>;
    /// Each row's line, errors, and whether it was written now or before.
    fn results(answer: &Self::Answer) -> Vec<(u32, &[ImportError], bool, bool)>;
}

/// A committee ledger's import call and its rows' outcomes: the same for each import RPC but for its
/// request type and method.
macro_rules! import_calls {
    ($request:ident, $method:ident) => {
        async fn send(
            client: &mut PoliticalLegalServiceClient<Channel>,
            request: tonic::Request<(String, bool, Vec<Self::Row>)>,
        ) -> Result<Self::Answer, tonic::Status> {
            let (metadata, extensions, (file_sha256, dry_run, rows)) = request.into_parts();
            let request = pb::$request {
                file_sha256,
                dry_run,
                rows,
            };
            let request = tonic::Request::from_parts(metadata, extensions, request);
            Ok(client.$method(request).await?.into_inner())
        }

        fn results(answer: &Self::Answer) -> Vec<(u32, &[ImportError], bool, bool)> {
            answer
                .rows
                .iter()
                .map(|r| (r.row, r.errors.as_slice(), r.written, r.already_imported))
                .collect()
        }
    };
}
pub(crate) use import_calls;

/// A dispute ledger.
pub(crate) struct DisputeLedger;
/// A supervision ledger.
pub(crate) struct OrderLedger;

impl Ledger for DisputeLedger {
    type Row = pb::ImportedDispute;
    type Answer = pb::ImportDisputesResponse;
    const WHAT: &'static str = "disputes";
    const COLUMNS: &'static [(&'static str, &'static str)] = &DISPUTE_COLUMNS;
    const REQUIRED: &'static [&'static str] = &[
        "source_row_id",
        "reported_on",
        "source",
        "title",
        "territory_unit_id",
    ];

    fn row(
        line: u32,
        cells: &[String],
        fields: &[&'static str],
        units: &HashMap<String, String>,
    ) -> Result<Self::Row, RowError> {
        dispute_row(line, cells, fields, units)
    }

    import_calls!(ImportDisputesRequest, import_disputes);
}

impl Ledger for OrderLedger {
    type Row = pb::ImportedOrder;
    type Answer = pb::ImportOrdersResponse;
    const WHAT: &'static str = "orders";
    const COLUMNS: &'static [(&'static str, &'static str)] = &ORDER_COLUMNS;
    const REQUIRED: &'static [&'static str] = &ORDER_REQUIRED;

    fn row(
        line: u32,
        cells: &[String],
        fields: &[&'static str],
        units: &HashMap<String, String>,
    ) -> Result<Self::Row, RowError> {
        order_row(line, cells, fields, units)
    }

    import_calls!(ImportOrdersRequest, import_orders);
}

/// Checks the whole file, then imports it if it has no error.
pub(crate) async fn run<L: Ledger>(
    args: &ImportArgs,
    issuer: &DevIssuer,
    sha: &str,
    sheet: &Sheet,
) -> anyhow::Result<()> {
    let fields = columns::<L>(&sheet.header)?;
    let committee = args
        .unit
        .clone()
        .unwrap_or_else(|| format!("{}.political_legal_committee", args.district));
    let token = demo_token(
        issuer,
        Agency::PoliticalLegal,
        &committee,
        &[Role::Importer, Role::Viewer],
    )?;
    let units = unit_ids(&args.ledger_address, &token).await?;
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    for (line, cells) in &sheet.rows {
        match L::row(*line, cells, &fields, &units) {
            Ok(r) => rows.push(r),
            Err(e) => errors.push(e),
        }
    }
    let client = PoliticalLegalServiceClient::new(connect(&args.political_legal_address).await?);
    let mut target = Committee::<L> {
        client,
        token,
        fields,
        ledger: std::marker::PhantomData,
    };
    check_then_import(&mut target, args, sha, &rows, errors, sheet.rows.len()).await
}

/// A committee ledger's rows, to the committee's service.
struct Committee<L> {
    client: PoliticalLegalServiceClient<Channel>,
    token: String,
    fields: Vec<&'static str>,
    ledger: std::marker::PhantomData<L>,
}

impl<L: Ledger> Target for Committee<L> {
    type Row = L::Row;
    type Answer = L::Answer;
    const WHAT: &'static str = L::WHAT;

    async fn send(
        &mut self,
        sha: &str,
        rows: &[Self::Row],
        dry_run: bool,
    ) -> anyhow::Result<Self::Answer> {
        let request = (sha.to_owned(), dry_run, rows.to_vec());
        let request = oneledger_services::auth::authorized(request, &self.token)?;
        L::send(&mut self.client, request)
            .await
            .context("the political-legal service's import")
    }

    fn errors(&self, answer: &Self::Answer) -> Vec<RowError> {
        let header_of = |field: &str| {
            L::COLUMNS
                .iter()
                .find(|(_, f)| *f == field && self.fields.contains(f))
                .map_or_else(|| field.to_owned(), |(h, _)| (*h).to_owned())
        };
        L::results(answer)
            .into_iter()
            .flat_map(|(row, errors, _, _)| {
                errors.iter().map(move |e| RowError {
                    row,
                    column: header_of(&e.field),
                    rule: e.rule.clone(),
                    message: e.message.clone(),
                })
            })
            .collect()
    }

    fn counts(answer: &Self::Answer) -> (usize, usize) {
        let results = L::results(answer);
        let written = results.iter().filter(|r| r.2).count();
        (written, results.iter().filter(|r| r.3).count())
    }
}

/// The header of `field` among `columns`.
pub(crate) fn header_of(columns: &[(&'static str, &'static str)], field: &str) -> &'static str {
    columns
        .iter()
        .find(|(_, f)| *f == field)
        .map_or("", |(h, _)| *h)
}

/// Each header's field; refuses an unknown column, one named twice, or a missing required one.
fn columns<L: Ledger>(header: &[String]) -> anyhow::Result<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for name in header {
        let name = name.trim().trim_start_matches('\u{feff}');
        let Some((_, field)) = L::COLUMNS.iter().find(|(h, _)| *h == name) else {
            let all: Vec<&str> = L::COLUMNS.iter().map(|(h, _)| *h).collect();
            bail!(
                "unknown column {name:?}: this ledger's columns are {}",
                all.join("、")
            );
        };
        if out.contains(field) {
            bail!("column {name:?} appears twice");
        }
        out.push(field);
    }
    for required in L::REQUIRED {
        if !out.contains(required) {
            let header = L::COLUMNS
                .iter()
                .find(|(_, f)| f == required)
                .map_or("", |(h, _)| *h);
            bail!("the file lacks the column {header}");
        }
    }
    Ok(out)
}

/// The template's columns: each header and the import API's field it fills.
const DISPUTE_COLUMNS: [(&str, &str); 17] = [
    ("来源编号", "source_row_id"),
    ("排查日期", "reported_on"),
    ("排查方式", "source"),
    ("标题", "title"),
    ("类别", "category"),
    ("发生地", "territory_unit_id"),
    ("人数", "collective_size"),
    ("评估日期", "assessed_on"),
    ("风险等级", "risk_level"),
    ("预警日期", "warned_on"),
    ("交办日期", "assigned_on"),
    ("责任单位", "responsible_unit_id"),
    ("属地单位", "territorial_unit_id"),
    ("化解期限", "resolution_due_on"),
    ("化解报告日期", "resolution_reported_on"),
    ("化解情况", "resolution_summary"),
    ("核实日期", "verified_on"),
];

/// 排查方式 as a ledger writes it.
const SOURCES: &[(&str, i32)] = &[
    ("日常排查", dispute::Source::DailyScreening as i32),
    ("集中排查", dispute::Source::CentralizedScreening as i32),
    ("专项排查", dispute::Source::SpecialScreening as i32),
    ("单位报告", dispute::Source::UnitReport as i32),
];

/// 风险等级 as a ledger writes it.
const RISKS: &[(&str, i32)] = &[
    ("低", dispute::RiskLevel::Low as i32),
    ("中", dispute::RiskLevel::Medium as i32),
    ("高", dispute::RiskLevel::High as i32),
    ("重大", dispute::RiskLevel::Major as i32),
];

/// The template's columns: each header and the import API's field it fills.
const ORDER_COLUMNS: [(&str, &str); 13] = [
    ("来源编号", "source_row_id"),
    ("督办事项类型", "subject_kind"),
    ("督办事项来源编号", "subject_source_row_id"),
    ("督办日期", "issued_on"),
    ("被督办单位", "to_unit_id"),
    ("反馈期限", "due_on"),
    ("督办原因", "reason"),
    ("督办要求", "requirements"),
    ("签收日期", "acknowledged_on"),
    ("反馈日期", "feedback_on"),
    ("反馈内容", "feedback"),
    ("办结日期", "closed_on"),
    ("备注", "note"),
];

/// The kind of an imported record's subject as a ledger writes it (督办事项类型, 处置事项类型).
pub(crate) const SUBJECT_KINDS: &[(&str, i32)] = &[
    ("信访事项", ItemKind::PetitionMatter as i32),
    ("矛盾纠纷", ItemKind::Dispute as i32),
];

/// 督办原因 as a ledger writes it, and the API's name of each.
const REASONS: &[(&str, &str)] = &[
    ("逾期", "overdue"),
    ("协议未履行", "agreement_breach"),
    ("风险", "risk"),
    ("重复信访", "repeat_petitions"),
    ("其他", "other"),
];

/// Required columns.
const ORDER_REQUIRED: [&str; 6] = [
    "source_row_id",
    "subject_kind",
    "subject_source_row_id",
    "issued_on",
    "to_unit_id",
    "due_on",
];

fn dispute_row(
    line: u32,
    cells: &[String],
    fields: &[&'static str],
    units: &HashMap<String, String>,
) -> Result<pb::ImportedDispute, RowError> {
    let mut d = pb::ImportedDispute {
        row: line,
        ..Default::default()
    };
    for (field, value) in fields.iter().zip(cells) {
        let cell = Cell::new(line, header_of(&DISPUTE_COLUMNS, field), value);
        let value = cell.value;
        let bad = |message| cell.bad(message);
        let unit = || cell.unit(units);
        let text = value.to_owned();
        match *field {
            "source_row_id" => d.source_row_id = text,
            "reported_on" => d.reported_on = text,
            "source" => d.source = label(value, SOURCES).map_err(bad)?,
            "title" => d.title = text,
            "category" => d.category = text,
            "territory_unit_id" => d.territory_unit_id = unit()?,
            "collective_size" => d.collective_size = cell.people()?,
            "assessed_on" => d.assessed_on = text,
            "risk_level" if !value.is_empty() => d.risk_level = label(value, RISKS).map_err(bad)?,
            "warned_on" => d.warned_on = text,
            "assigned_on" => d.assigned_on = text,
            "responsible_unit_id" => d.responsible_unit_id = unit()?,
            "territorial_unit_id" => d.territorial_unit_id = unit()?,
            "resolution_due_on" => d.resolution_due_on = text,
            "resolution_reported_on" => d.resolution_reported_on = text,
            "resolution_summary" => d.resolution_summary = text,
            "verified_on" => d.verified_on = text,
            _ => {}
        }
    }
    Ok(d)
}

fn order_row(
    line: u32,
    cells: &[String],
    fields: &[&'static str],
    units: &HashMap<String, String>,
) -> Result<pb::ImportedOrder, RowError> {
    let mut o = pb::ImportedOrder {
        row: line,
        ..Default::default()
    };
    for (field, value) in fields.iter().zip(cells) {
        let cell = Cell::new(line, header_of(&ORDER_COLUMNS, field), value);
        let value = cell.value;
        let bad = |message| cell.bad(message);
        let text = value.to_owned();
        match *field {
            "source_row_id" => o.source_row_id = text,
            "subject_kind" => o.subject_kind = label(value, SUBJECT_KINDS).map_err(bad)?,
            "subject_source_row_id" => o.subject_source_row_id = text,
            "issued_on" => o.issued_on = text,
            "to_unit_id" => o.to_unit_id = cell.unit_named(value, units)?,
            "due_on" => o.due_on = text,
            "reason" if !value.is_empty() => {
                o.reason = REASONS
                    .iter()
                    .find(|(l, _)| *l == value)
                    .map(|(_, r)| (*r).to_owned())
                    .ok_or_else(|| {
                        let allowed: Vec<&str> = REASONS.iter().map(|(l, _)| *l).collect();
                        bad(format!("{value:?} is not one of {}", allowed.join("、")))
                    })?
            }
            "requirements" => o.requirements = text,
            "acknowledged_on" => o.acknowledged_on = text,
            "feedback_on" => o.feedback_on = text,
            "feedback" => o.feedback = text,
            "closed_on" => o.closed_on = text,
            _ => {}
        }
    }
    Ok(o)
}
