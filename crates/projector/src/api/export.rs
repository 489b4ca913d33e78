//! `ExportLedger`: a list of entries or the statistics as a spreadsheet a unit files as its 台账 —
//! Chinese headers in a unit ledger's column order, the ledger cursor and the time it was read at in
//! the file, no personal data (the ledger holds none). XLSX through `rust_xlsxwriter`, CSV through `csv`
//! with a byte-order mark, which spreadsheet programs need to read UTF-8 Chinese.

use chrono::{DateTime, FixedOffset, Utc};
use oneledger_domain::clock::CHINA_STANDARD_TIME_SECS;
use oneledger_domain::dispute::RiskLevel;
use oneledger_domain::{ItemKind, UnitDirectory, UnitId};
use oneledger_proto::convert::ledger as wire;
use oneledger_proto::ledger::v2 as pb;
use rust_xlsxwriter::{Format, Workbook};

use crate::model::EntryView;

/// A sheet: its name and its rows, the first of which is the header.
pub(crate) struct Sheet {
    pub(crate) name: &'static str,
    pub(crate) rows: Vec<Vec<String>>,
}

/// Why a file could not be written. gRPC: `INTERNAL` (never the writer's text).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The XLSX writer failed.
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The CSV writer failed.
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The CSV writer could not be finished.
    #[error("finishing the CSV: {0}")]
    CsvInto(String),
}

/// The columns of a unit's ledger (台账), in order.
pub(crate) const ENTRY_COLUMNS: [&str; 19] = [
    "序号",
    "台账编号",
    "事项名称",
    "办理状态",
    "当前阶段",
    "属事单位",
    "属地单位",
    "所属区域",
    "派出所",
    "协同单位",
    "风险等级",
    "涉及人数",
    "最近期限",
    "期限依据",
    "是否逾期",
    "督办",
    "化解报告",
    "首次登记",
    "最近变动",
];

fn beijing(at: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(CHINA_STANDARD_TIME_SECS)
        .unwrap_or_else(|| unreachable!("+08:00 is a valid offset"));
    at.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The Beijing minute a file name carries, e.g. `20261202-0930`.
pub(crate) fn file_stamp(at: DateTime<Utc>) -> String {
    beijing(at).replace(['-', ':'], "").replace(' ', "-")
}

/// The Chinese name of an item's stage, by its kind and stable name.
pub(crate) fn stage_zh(kind: ItemKind, stage: &str) -> &'static str {
    match (kind, stage) {
        (ItemKind::PetitionMatter, s) => match s {
            "registered" => "已登记",
            "forwarded" => "已转送",
            "assigned" => "已交办",
            "received" => "已接收",
            "routing_objected" => "异议待定",
            "handling" => "办理中",
            "opinion_issued" => "已出具意见",
            "replied" => "已答复",
            "under_review" => "复查中",
            "review_opinion_issued" => "已出具复查意见",
            "review_replied" => "复查已答复",
            "under_re_review" => "复核中",
            "re_review_opinion_issued" => "已出具复核意见",
            "concluded" => "依法终结",
            "final" => "已终结（期满）",
            "channelled" => "导入法定途径",
            "diverted" => "已分流",
            "not_accepted" => "不予受理",
            "referred_to_discipline" => "移送纪检监察",
            "answered" => "已答复建议",
            "merged" => "已合并",
            "not_accepted_again" => "不再受理",
            _ => "信访事项",
        },
        (ItemKind::Dispute, s) => match s {
            "reported" => "已上报",
            "assessed" => "已评估",
            "assigned" => "已交办",
            "resolution_reported" => "化解待核",
            "verified" => "已化解",
            "closed" => "已办结",
            _ => "矛盾纠纷",
        },
        (ItemKind::JointHandling, "closed") => "联合处置已结",
        (ItemKind::JointHandling, _) => "联合处置中",
        (ItemKind::SupervisionOrder, s) => match s {
            "issued" => "督办已发",
            "acknowledged" => "督办已签收",
            "feedback_submitted" => "督办已反馈",
            "closed" => "督办已结",
            _ => "督办",
        },
    }
}

fn risk_zh(r: RiskLevel) -> &'static str {
    match r {
        RiskLevel::Low => "低",
        RiskLevel::Medium => "中",
        RiskLevel::High => "高",
        RiskLevel::Major => "重大",
    }
}

/// What a list export holds, as people read it in the file and in the record of exports:
/// `台账：单位 滨海新区人力资源和社会保障局；标题含“工资”；排序 最近期限`.
pub(crate) fn describe(f: &pb::EntryFilter, order_by: i32, directory: &UnitDirectory) -> String {
    let name = |id: &str| {
        directory
            .name_of(&UnitId::from(id))
            .unwrap_or(id)
            .to_owned()
    };
    let mut parts = Vec::new();
    if !f.unit_id.is_empty() {
        parts.push(format!("单位 {}", name(&f.unit_id)));
    }
    if !f.territory_unit_id.is_empty() {
        parts.push(format!("区域 {}", name(&f.territory_unit_id)));
    }
    match f.status() {
        pb::EntryStatus::Open => parts.push("未办结".to_owned()),
        pb::EntryStatus::Closed => parts.push("已办结".to_owned()),
        pb::EntryStatus::Unspecified => {}
    }
    if let Some((kind, stage)) = wire::stage_of(f.stage()) {
        parts.push(format!("阶段 {}", stage_zh(kind, &stage)));
    }
    if let Some(risk) = oneledger_domain::dispute::RiskLevel::ALL
        .into_iter()
        .find(|r| oneledger_proto::dispute::v1::RiskLevel::from(*r) as i32 == f.min_risk)
    {
        parts.push(format!("风险不低于 {}", risk_zh(risk)));
    }
    if f.overdue_only {
        parts.push("仅逾期".to_owned());
    }
    if let Some(d) = &f.due_before {
        parts.push(format!("期限截至 {}", wire::iso(Some(d))));
    }
    if !f.title_contains.is_empty() {
        parts.push(format!("标题含“{}”", f.title_contains));
    }
    let order = match pb::EntryOrder::try_from(order_by).unwrap_or_default() {
        pb::EntryOrder::NextDue => "最近期限",
        pb::EntryOrder::Risk => "风险",
        pb::EntryOrder::LastChange => "最近变动",
        pb::EntryOrder::Registered => "首次登记",
        pb::EntryOrder::Root | pb::EntryOrder::Unspecified => "台账编号",
    };
    if parts.is_empty() {
        parts.push("全部".to_owned());
    }
    format!("台账：{}；排序 {order}", parts.join("；"))
}

/// One ledger row of an entry.
pub(crate) fn entry_row(n: usize, e: &EntryView, directory: &UnitDirectory) -> Vec<String> {
    let name = |u: Option<&UnitId>| {
        u.map(|u| directory.name_of(u).unwrap_or(&u.0).to_owned())
            .unwrap_or_default()
    };
    let next = super::entry::next_deadline(e);
    vec![
        n.to_string(),
        e.root
            .as_ref()
            .map(|r| r.id().to_owned())
            .unwrap_or_default(),
        e.title.clone(),
        if e.closed { "已办结" } else { "未办结" }.to_owned(),
        e.stages
            .iter()
            .map(|s| stage_zh(s.item.kind(), &s.stage))
            .collect::<Vec<_>>()
            .join("；"),
        name(e.responsible_unit.as_ref()),
        name(e.territorial_unit.as_ref()),
        name(e.territory.as_ref()),
        name(e.police_station.as_ref()),
        e.co_handling_units
            .iter()
            .map(|u| name(Some(u)))
            .collect::<Vec<_>>()
            .join("、"),
        e.risk_level.map(risk_zh).unwrap_or_default().to_owned(),
        e.collective_size.to_string(),
        next.map(|d| d.due_on.to_string()).unwrap_or_default(),
        next.map(|d| d.article.clone()).unwrap_or_default(),
        if e.overdue { "是" } else { "否" }.to_owned(),
        e.supervision_orders.len().to_string(),
        e.resolution_reports.to_string(),
        e.registered_at.map(beijing).unwrap_or_default(),
        e.last_changed_at.map(beijing).unwrap_or_default(),
    ]
}

/// The sheets of the statistics: the figures, the units and the months.
pub(crate) fn statistics_sheets(s: &pb::GetStatisticsResponse) -> Vec<Sheet> {
    let f = s.figures.unwrap_or_default();
    let r = s.rates.unwrap_or_default();
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let mut overview = vec![vec!["指标".to_owned(), "数值".to_owned()]];
    overview.extend(
        wire::figure_rows(&f, &r)
            .into_iter()
            .map(|row| vec![row.zh.to_owned(), row.value.to_string()]),
    );
    let mut units = vec![
        [
            "单位",
            "单位编号",
            "事项数",
            "按期办结率",
            "按期告知率",
            "逾期事项",
            "督办函",
            "督办逾期",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for u in &s.units {
        let unit = u.unit.clone().unwrap_or_default();
        let rates = u.rates.unwrap_or_default();
        units.push(vec![
            unit.name,
            unit.unit_id,
            u.matters.to_string(),
            pct(rates.on_time_handling_rate),
            pct(rates.on_time_notice_rate),
            u.matters_overdue.to_string(),
            u.supervision_orders.to_string(),
            u.supervision_answers_overdue.to_string(),
        ]);
    }
    let mut months = vec![
        [
            "起",
            "止",
            "信访登记",
            "信访受理",
            "终结",
            "纠纷上报",
            "督办函",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for m in &s.months {
        months.push(vec![
            wire::iso(m.from_date.as_ref()),
            wire::iso(m.to_date.as_ref()),
            m.matters_registered.to_string(),
            m.matters_accepted.to_string(),
            m.matters_concluded.to_string(),
            m.disputes_reported.to_string(),
            m.supervision_orders_issued.to_string(),
        ]);
    }
    vec![
        Sheet {
            name: "统计",
            rows: overview,
        },
        Sheet {
            name: "单位",
            rows: units,
        },
        Sheet {
            name: "月度",
            rows: months,
        },
    ]
}

/// What every file says of itself: the export's id, when, at which cursor, by whom, of what.
pub(crate) fn about(
    export_id: &str,
    at: DateTime<Utc>,
    cursor: u64,
    unit: &str,
    what: &str,
) -> Vec<Vec<String>> {
    [
        ("导出编号", export_id.to_owned()),
        ("导出时间", beijing(at)),
        ("截至台账游标", cursor.to_string()),
        ("导出单位", unit.to_owned()),
        ("导出内容", what.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| vec![k.to_owned(), v])
    .collect()
}

/// An XLSX workbook: the sheets, then 导出说明 with `about`.
pub(crate) fn xlsx(sheets: &[Sheet], about: &[Vec<String>]) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let all = sheets
        .iter()
        .map(|s| (s.name, s.rows.as_slice()))
        .chain([("导出说明", about)]);
    for (name, rows) in all {
        let sheet = book.add_worksheet();
        sheet.set_name(name)?;
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r).unwrap_or(u32::MAX);
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).unwrap_or(u16::MAX);
                if r == 0 {
                    sheet.write_string_with_format(r, c, cell, &bold)?;
                } else {
                    sheet.write_string(r, c, cell)?;
                }
            }
        }
        sheet.autofit();
    }
    Ok(book.save_to_buffer()?)
}

/// A CSV file: `about`, a blank line, then each sheet's rows, sheets apart by a blank line.
pub(crate) fn csv(sheets: &[Sheet], about: &[Vec<String>]) -> Result<Vec<u8>, ExportError> {
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer("\u{feff}".as_bytes().to_vec());
    let blocks = std::iter::once(about).chain(sheets.iter().map(|s| s.rows.as_slice()));
    for (i, rows) in blocks.enumerate() {
        if i > 0 {
            out.write_record([""])?;
        }
        for row in rows {
            out.write_record(row)?;
        }
    }
    out.into_inner()
        .map_err(|e| ExportError::CsvInto(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_export_says_in_chinese_what_it_holds() {
        // Given the shipped directory and a unit's open, overdue entries about wages, by next due date
        let rules = oneledger_domain::Rules::shipped().expect("the shipped rules");
        let filter = pb::EntryFilter {
            unit_id: "binhai.human_resources_bureau".into(),
            status: pb::EntryStatus::Open as i32,
            min_risk: oneledger_proto::dispute::v1::RiskLevel::High as i32,
            overdue_only: true,
            title_contains: "工资".into(),
            ..Default::default()
        };
        // When it is described, and an unfiltered list too
        let what = describe(&filter, pb::EntryOrder::NextDue as i32, &rules.directory);
        let all = describe(&pb::EntryFilter::default(), 0, &rules.directory);
        // Then every filter is named in Chinese, the unit by its name
        assert_eq!(
            what,
            "台账：单位 滨海新区人力资源和社会保障局；未办结；风险不低于 高；仅逾期；标题含“工资”；排序 最近期限"
        );
        assert_eq!(all, "台账：全部；排序 台账编号");
    }
}
