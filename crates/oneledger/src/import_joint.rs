//! `oneledger import` of a joint-handling ledger (联合处置台账, template `docs/import/joint-handlings.csv`):
//! joint handlings of items imported before, named by their own 来源编号, through the political-legal
//! committee's import API.

use std::collections::HashMap;

use oneledger_proto::common::v1::ImportError;
use oneledger_proto::political_legal::v1::{
    self as pb, CoHandlerRole, political_legal_service_client::PoliticalLegalServiceClient,
};
use tonic::transport::Channel;

use crate::import::{Cell, RowError, label};
use crate::import_committee::{Ledger, SUBJECT_KINDS, header_of, import_calls};

/// A joint-handling ledger.
pub(crate) struct JointLedger;

/// The template's columns: each header and the import API's field it fills.
const COLUMNS: [(&str, &str); 15] = [
    ("来源编号", "source_row_id"),
    ("处置事项类型", "subject_kind"),
    ("处置事项来源编号", "subject_source_row_id"),
    ("启动日期", "opened_on"),
    ("牵头单位", "lead_unit_id"),
    ("协同单位", "co_handlers"),
    ("任务内容", "task_description"),
    ("任务单位", "task_unit_id"),
    ("任务期限", "task_due_on"),
    ("任务完成日期", "task_done_on"),
    ("协同办结日期", "parts_closed_on"),
    ("化解报告日期", "reported_on"),
    ("化解情况", "resolution_summary"),
    ("办结日期", "closed_on"),
    ("备注", "note"),
];

/// A co-handler's part as a ledger writes it after the unit's name, `塘沽派出所（派出所）`.
const PARTS: &[(&str, i32)] = &[
    ("属地单位", CoHandlerRole::TerritorialUnit as i32),
    ("派出所", CoHandlerRole::PoliceStation as i32),
    ("司法所", CoHandlerRole::JudicialOffice as i32),
    ("人民法庭", CoHandlerRole::PeoplesTribunal as i32),
    ("检察室", CoHandlerRole::ProcuratorateOffice as i32),
    ("调解组织", CoHandlerRole::MediationBody as i32),
    ("部门", CoHandlerRole::Department as i32),
];

impl Ledger for JointLedger {
    type Row = pb::ImportedJointHandling;
    type Answer = pb::ImportJointHandlingsResponse;
    const WHAT: &'static str = "joint handlings";
    const COLUMNS: &'static [(&'static str, &'static str)] = &COLUMNS;
    const REQUIRED: &'static [&'static str] = &[
        "source_row_id",
        "subject_kind",
        "subject_source_row_id",
        "opened_on",
        "lead_unit_id",
        "co_handlers",
    ];

    fn row(
        line: u32,
        cells: &[String],
        fields: &[&'static str],
        units: &HashMap<String, String>,
    ) -> Result<Self::Row, RowError> {
        let mut j = pb::ImportedJointHandling {
            row: line,
            ..Default::default()
        };
        for (field, value) in fields.iter().zip(cells) {
            let cell = Cell::new(line, header_of(&COLUMNS, field), value);
            let value = cell.value;
            let bad = |message| cell.bad(message);
            let unit = |name: &str| cell.unit_named(name, units);
            let text = value.to_owned();
            match *field {
                "source_row_id" => j.source_row_id = text,
                "subject_kind" => j.subject_kind = label(value, SUBJECT_KINDS).map_err(bad)?,
                "subject_source_row_id" => j.subject_source_row_id = text,
                "opened_on" => j.opened_on = text,
                "lead_unit_id" => j.lead_unit_id = unit(value)?,
                "co_handlers" => {
                    for named in value.split(['、', '；', ';']).map(str::trim) {
                        let (name, role) = part(named).map_err(&bad)?;
                        let unit_id = unit(name)?;
                        j.co_handlers.push(pb::CoHandler { unit_id, role });
                    }
                }
                "task_description" => j.task_description = text,
                "task_unit_id" if !value.is_empty() => j.task_unit_id = unit(value)?,
                "task_due_on" => j.task_due_on = text,
                "task_done_on" => j.task_done_on = text,
                "parts_closed_on" => j.parts_closed_on = text,
                "reported_on" => j.reported_on = text,
                "resolution_summary" => j.resolution_summary = text,
                "closed_on" => j.closed_on = text,
                _ => {}
            }
        }
        Ok(j)
    }

    import_calls!(ImportJointHandlingsRequest, import_joint_handlings);
}

/// A co-handler as the ledger names it: the unit's name, and its part in brackets if the ledger gives
/// one (none: the service reads the part from the unit's kind).
fn part(named: &str) -> Result<(&str, i32), String> {
    if named.is_empty() {
        return Err("a co-handling unit's name is empty (units are separated by 、)".into());
    }
    let Some(open) = named.find(['（', '(']) else {
        return Ok((named, CoHandlerRole::Unspecified as i32));
    };
    let (name, rest) = named.split_at(open);
    let inner = rest
        .trim_start_matches(['（', '('])
        .strip_suffix(['）', ')'])
        .ok_or_else(|| format!("{named:?}: a part in brackets ends with ）"))?;
    Ok((name.trim(), label(inner.trim(), PARTS)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_co_handler_is_named_with_or_without_its_part() {
        assert_eq!(
            part("塘沽派出所（派出所）").unwrap(),
            ("塘沽派出所", CoHandlerRole::PoliceStation as i32)
        );
        assert_eq!(
            part("塘沽司法所").unwrap(),
            ("塘沽司法所", CoHandlerRole::Unspecified as i32)
        );
        assert!(part("塘沽司法所（法院）").unwrap_err().contains("法院"));
        assert!(part("塘沽司法所（司法所").unwrap_err().contains("）"));
    }
}
