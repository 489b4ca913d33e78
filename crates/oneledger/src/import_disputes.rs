//! `oneledger import` of a dispute ledger (矛盾纠纷台账, template `docs/import/disputes.csv`): screened
//! disputes through the committee's import API, checked whole first like a petition ledger.

use std::collections::HashMap;

use anyhow::{Context, bail};
use oneledger_domain::Agency;
use oneledger_proto::dispute::v1 as dispute;
use oneledger_proto::political_legal::v1::{
    self as pb, political_legal_service_client::PoliticalLegalServiceClient,
};
use oneledger_services::{Role, TokenKeys};

use crate::config::ImportArgs;
use crate::demo::{connect, demo_token};
use crate::import::{RowError, Sheet, Target, check_then_import, label, unit_ids};

/// The template's columns: each header and the import API's field it fills.
const COLUMNS: [(&str, &str); 17] = [
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

/// Checks the whole file, then imports it if it has no error.
pub(crate) async fn run(
    args: &ImportArgs,
    keys: &TokenKeys,
    sha: &str,
    sheet: &Sheet,
) -> anyhow::Result<()> {
    let fields = columns(&sheet.header)?;
    let committee = args
        .unit
        .clone()
        .unwrap_or_else(|| format!("{}.political_legal_committee", args.district));
    let token = demo_token(
        keys,
        Agency::PoliticalLegal,
        &committee,
        &[Role::Importer, Role::Viewer],
    );
    let units = unit_ids(&args.ledger_address, &token).await?;
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    for (line, cells) in &sheet.rows {
        match row(*line, cells, &fields, &units) {
            Ok(r) => rows.push(r),
            Err(e) => errors.push(e),
        }
    }
    let client = PoliticalLegalServiceClient::new(connect(&args.political_legal_address).await?);
    let mut target = Disputes {
        client,
        token,
        fields,
    };
    check_then_import(&mut target, args, sha, &rows, errors, sheet.rows.len()).await
}

/// A dispute ledger's rows, to the committee's service.
struct Disputes {
    client: PoliticalLegalServiceClient<tonic::transport::Channel>,
    token: String,
    fields: Vec<&'static str>,
}

impl Target for Disputes {
    type Row = pb::ImportedDispute;
    type Answer = pb::ImportDisputesResponse;
    const WHAT: &'static str = "disputes";

    async fn send(
        &mut self,
        sha: &str,
        rows: &[Self::Row],
        dry_run: bool,
    ) -> anyhow::Result<Self::Answer> {
        send(&mut self.client, &self.token, sha, rows, dry_run).await
    }

    fn errors(&self, answer: &Self::Answer) -> Vec<RowError> {
        row_errors(answer, &self.fields)
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
    client: &mut PoliticalLegalServiceClient<tonic::transport::Channel>,
    token: &str,
    sha: &str,
    rows: &[pb::ImportedDispute],
    dry_run: bool,
) -> anyhow::Result<pb::ImportDisputesResponse> {
    let request = pb::ImportDisputesRequest {
        file_sha256: sha.to_owned(),
        dry_run,
        rows: rows.to_vec(),
    };
    Ok(client
        .import_disputes(oneledger_services::auth::authorized(request, token)?)
        .await
        .context("the political-legal service's import")?
        .into_inner())
}

/// Each header's field; refuses an unknown column, one named twice, or a missing required one.
fn columns(header: &[String]) -> anyhow::Result<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for name in header {
        let name = name.trim().trim_start_matches('\u{feff}');
        let Some((_, field)) = COLUMNS.iter().find(|(h, _)| *h == name) else {
            bail!(
                "unknown column {name:?}: a dispute ledger's columns are {}",
                COLUMNS.map(|(h, _)| h).join("、")
            );
        };
        if out.contains(field) {
            bail!("column {name:?} appears twice");
        }
        out.push(field);
    }
    for required in [
        "source_row_id",
        "reported_on",
        "source",
        "title",
        "territory_unit_id",
    ] {
        if !out.contains(&required) {
            let header = COLUMNS
                .iter()
                .find(|(_, f)| *f == required)
                .map_or("", |(h, _)| *h);
            bail!("the file lacks the column {header}");
        }
    }
    Ok(out)
}

fn row(
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
        let value = value.trim();
        let header = COLUMNS
            .iter()
            .find(|(_, f)| f == field)
            .map_or("", |(h, _)| *h);
        let bad = |message: String| RowError {
            row: line,
            column: header.to_owned(),
            rule: String::new(),
            message,
        };
        let unit = || match value {
            "" => Ok(String::new()),
            v => units
                .get(v)
                .cloned()
                .ok_or_else(|| bad(format!("{v:?} is no unit of the district's directory"))),
        };
        let text = value.to_owned();
        match *field {
            "source_row_id" => d.source_row_id = text,
            "reported_on" => d.reported_on = text,
            "source" => d.source = label(value, SOURCES).map_err(bad)?,
            "title" => d.title = text,
            "category" => d.category = text,
            "territory_unit_id" => d.territory_unit_id = unit()?,
            "collective_size" => {
                d.collective_size = match value {
                    "" => 1,
                    v => v
                        .parse()
                        .map_err(|_| bad(format!("{v:?} is not a number of people")))?,
                }
            }
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

fn row_errors(answer: &pb::ImportDisputesResponse, fields: &[&'static str]) -> Vec<RowError> {
    let header_of = |field: &str| {
        COLUMNS
            .iter()
            .find(|(_, f)| *f == field && fields.contains(f))
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
