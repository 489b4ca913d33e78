//! Between the ledger API's types (`oneledger.ledger.v2`) and the domain's: legal days, instants, and
//! the enums the ledger shows. A stage's or a source's wire name is its domain stable name, upper-cased
//! under the enum's prefix (`handling` of a petition matter is `ITEM_STAGE_MATTER_HANDLING`), so the
//! two spellings cannot drift: the tests below walk every domain value.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use oneledger_domain::ItemKind;
use oneledger_domain::clock::DeadlineKind;
use oneledger_domain::watch::{ProposalSource, Threshold};

use super::{FromWire, WireError};
use crate::google_type::Date;
use crate::ledger::v2 as ledger;

/// A legal day on the wire.
pub fn date(day: NaiveDate) -> Date {
    Date {
        year: day.year(),
        month: i32::try_from(day.month()).unwrap_or(0),
        day: i32::try_from(day.day()).unwrap_or(0),
    }
}

/// The day of an optional date field: `None` when absent, refused when not a whole calendar date.
pub fn day(field: &str, raw: Option<&Date>) -> Result<Option<NaiveDate>, WireError> {
    let Some(d) = raw else { return Ok(None) };
    let whole = |n: i32| u32::try_from(n).ok();
    whole(d.month)
        .zip(whole(d.day))
        .and_then(|(m, day)| NaiveDate::from_ymd_opt(d.year, m, day))
        .filter(|_| (1..=9999).contains(&d.year))
        .map(Some)
        .ok_or_else(|| {
            WireError::new(
                field,
                format!("{}-{}-{} is not a calendar date", d.year, d.month, d.day),
            )
        })
}

/// A wire date as ISO text (`2026-05-06`), as people read it; empty when absent.
pub fn iso(raw: Option<&Date>) -> String {
    raw.map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
        .unwrap_or_default()
}

/// The day of a required date field.
pub fn required_day(field: &str, raw: Option<&Date>) -> Result<NaiveDate, WireError> {
    day(field, raw)?.ok_or_else(|| WireError::new(field, "required"))
}

/// An instant on the wire.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// The enum prefix of an item kind's stages.
fn stage_prefix(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::PetitionMatter => "ITEM_STAGE_MATTER_",
        ItemKind::Dispute => "ITEM_STAGE_DISPUTE_",
        ItemKind::JointHandling => "ITEM_STAGE_JOINT_HANDLING_",
        ItemKind::SupervisionOrder => "ITEM_STAGE_ORDER_",
    }
}

/// The wire stage of an item of `kind` at the stage the domain names `stage` (`UNSPECIFIED` for one
/// the contract does not know, which the tests rule out).
pub fn item_stage(kind: ItemKind, stage: &str) -> ledger::ItemStage {
    let name = format!("{}{}", stage_prefix(kind), stage.to_ascii_uppercase());
    ledger::ItemStage::from_str_name(&name).unwrap_or(ledger::ItemStage::Unspecified)
}

/// The item kind and domain stage name a wire stage stands for; `None` for `UNSPECIFIED`.
pub fn stage_of(stage: ledger::ItemStage) -> Option<(ItemKind, String)> {
    let name = stage.as_str_name();
    ItemKind::ALL.into_iter().find_map(|kind| {
        name.strip_prefix(stage_prefix(kind))
            .map(|rest| (kind, rest.to_ascii_lowercase()))
    })
}

/// The wire value of a proposal's source.
pub fn proposal_source(source: &ProposalSource) -> ledger::ProposalSource {
    let name = format!("PROPOSAL_SOURCE_{}", source.as_str().to_ascii_uppercase());
    ledger::ProposalSource::from_str_name(&name).unwrap_or(ledger::ProposalSource::Unspecified)
}

impl FromWire for DeadlineKind {
    type Wire = ledger::DeadlineKind;
    const EXPECTED: &'static str = "a deadline kind";
    fn from_wire(wire: ledger::DeadlineKind) -> Option<Self> {
        let name = wire.as_str_name().strip_prefix("DEADLINE_KIND_")?;
        DeadlineKind::parse(&name.to_ascii_lowercase())
    }
}

impl From<DeadlineKind> for ledger::DeadlineKind {
    fn from(kind: DeadlineKind) -> Self {
        let name = format!("DEADLINE_KIND_{}", kind.as_str().to_ascii_uppercase());
        ledger::DeadlineKind::from_str_name(&name).unwrap_or(ledger::DeadlineKind::Unspecified)
    }
}

impl From<Threshold> for ledger::Threshold {
    fn from(t: Threshold) -> Self {
        let name = format!("THRESHOLD_{}", t.as_str().to_ascii_uppercase());
        ledger::Threshold::from_str_name(&name).unwrap_or(ledger::Threshold::Unspecified)
    }
}

/// One figure of the statistics as people read it.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureRow {
    /// Its field name, e.g. `warnings_issued`.
    pub name: &'static str,
    /// Its Chinese name, e.g. 风险预警.
    pub zh: &'static str,
    /// Its value.
    pub value: FigureValue,
}

/// A figure's value: a count, or a rate between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FigureValue {
    /// How many.
    Count(u64),
    /// A share, 0 to 1.
    Rate(f64),
}

impl FigureValue {
    /// The count; `None` for a rate.
    pub fn count(self) -> Option<u64> {
        match self {
            FigureValue::Count(n) => Some(n),
            FigureValue::Rate(_) => None,
        }
    }
}

impl std::fmt::Display for FigureValue {
    /// A count as digits, a rate as a percentage to one decimal.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FigureValue::Count(n) => write!(f, "{n}"),
            FigureValue::Rate(x) => write!(f, "{:.1}%", x * 100.0),
        }
    }
}

/// Every figure and rate in the report's order, the annual report's five first: the one list the CLI
/// table and the spreadsheets read.
pub fn figure_rows(f: &ledger::Figures, r: &ledger::Rates) -> Vec<FigureRow> {
    use FigureValue::{Count, Rate};
    [
        ("warnings_issued", "风险预警", Count(f.warnings_issued)),
        (
            "supervision_orders_issued",
            "督办函",
            Count(f.supervision_orders_issued),
        ),
        (
            "resolution_reports",
            "化解报告",
            Count(f.resolution_reports),
        ),
        (
            "collective_matters_assigned",
            "交办群体性事项",
            Count(f.collective_matters_assigned),
        ),
        (
            "priority_matters_assigned",
            "交办重点事项",
            Count(f.priority_matters_assigned),
        ),
        (
            "disputes_reported",
            "矛盾纠纷上报",
            Count(f.disputes_reported),
        ),
        ("risks_assessed", "风险评估", Count(f.risks_assessed)),
        ("disputes_assigned", "纠纷交办", Count(f.disputes_assigned)),
        (
            "resolutions_verified",
            "化解核实",
            Count(f.resolutions_verified),
        ),
        (
            "supervision_escalations",
            "督办升级",
            Count(f.supervision_escalations),
        ),
        (
            "matters_registered",
            "信访登记",
            Count(f.matters_registered),
        ),
        ("matters_accepted", "信访受理", Count(f.matters_accepted)),
        ("matters_concluded", "复核终结", Count(f.matters_concluded)),
        (
            "matters_final",
            "期满终结（已记录）",
            Count(f.matters_final),
        ),
        (
            "matters_final_unrecorded",
            "期满终结（未记录）",
            Count(f.matters_final_unrecorded),
        ),
        (
            "matters_lawfully_concluded",
            "依法终结",
            Count(f.matters_lawfully_concluded),
        ),
        (
            "repeat_petitions_refused",
            "不再受理",
            Count(f.repeat_petitions_refused),
        ),
        (
            "handling_extensions",
            "延长办理",
            Count(f.handling_extensions),
        ),
        ("reviews_requested", "申请复查", Count(f.reviews_requested)),
        (
            "re_reviews_requested",
            "申请复核",
            Count(f.re_reviews_requested),
        ),
        (
            "joint_handlings_opened",
            "联合处置",
            Count(f.joint_handlings_opened),
        ),
        (
            "supervision_proposals",
            "督办建议",
            Count(f.supervision_proposals),
        ),
        (
            "supervision_proposals_issued",
            "督办建议已发",
            Count(f.supervision_proposals_issued),
        ),
        (
            "supervision_proposals_dismissed",
            "督办建议已驳回",
            Count(f.supervision_proposals_dismissed),
        ),
        ("first_petitions", "初信初访", Count(f.first_petitions)),
        ("repeat_petitions", "重信重访", Count(f.repeat_petitions)),
        (
            "repeat_petitions_merged",
            "重复件合并",
            Count(f.repeat_petitions_merged),
        ),
        (
            "repeat_petitions_as_new_matters",
            "重复件新立事项",
            Count(f.repeat_petitions_as_new_matters),
        ),
        (
            "possible_repeats_undecided",
            "疑似重复待定",
            Count(f.possible_repeats_undecided),
        ),
        (
            "open_repeat_matters",
            "在办重复信访",
            Count(f.open_repeat_matters),
        ),
        (
            "open_repeat_matters_up_to_90_days",
            "其中90天以内",
            Count(f.open_repeat_matters_up_to_90_days),
        ),
        (
            "open_repeat_matters_91_to_180_days",
            "其中91至180天",
            Count(f.open_repeat_matters_91_to_180_days),
        ),
        (
            "open_repeat_matters_181_to_365_days",
            "其中181至365天",
            Count(f.open_repeat_matters_181_to_365_days),
        ),
        (
            "open_repeat_matters_over_365_days",
            "其中365天以上",
            Count(f.open_repeat_matters_over_365_days),
        ),
        ("matters_overdue", "逾期事项", Count(f.matters_overdue)),
        (
            "supervision_answers_overdue",
            "督办逾期未反馈",
            Count(f.supervision_answers_overdue),
        ),
        (
            "review_outcomes_upheld",
            "复查维持",
            Count(f.review_outcomes_upheld),
        ),
        (
            "review_outcomes_changed",
            "复查变更",
            Count(f.review_outcomes_changed),
        ),
        (
            "review_outcomes_revoked",
            "复查撤销",
            Count(f.review_outcomes_revoked),
        ),
        (
            "re_review_outcomes_upheld",
            "复核维持",
            Count(f.re_review_outcomes_upheld),
        ),
        (
            "re_review_outcomes_changed",
            "复核变更",
            Count(f.re_review_outcomes_changed),
        ),
        (
            "re_review_outcomes_revoked",
            "复核撤销",
            Count(f.re_review_outcomes_revoked),
        ),
        (
            "on_time_notice_rate",
            "按期告知率",
            Rate(r.on_time_notice_rate),
        ),
        (
            "on_time_handling_rate",
            "按期办结率",
            Rate(r.on_time_handling_rate),
        ),
        ("extension_rate", "延期率", Rate(r.extension_rate)),
        (
            "review_overturn_rate",
            "复查改变率",
            Rate(r.review_overturn_rate),
        ),
        (
            "re_review_overturn_rate",
            "复核改变率",
            Rate(r.re_review_overturn_rate),
        ),
    ]
    .into_iter()
    .map(|(name, zh, value)| FigureRow { name, zh, value })
    .collect()
}

#[cfg(test)]
mod tests {
    use oneledger_domain::dispute::DisputeStage;
    use oneledger_domain::petition::Stage;
    use oneledger_domain::supervision::OrderStage;

    use super::*;

    #[test]
    fn every_domain_stage_has_its_wire_stage_and_back() {
        let matter = Stage::ALL
            .into_iter()
            .filter(|s| *s != Stage::Unregistered)
            .map(|s| (ItemKind::PetitionMatter, s.as_str()));
        let dispute = [
            DisputeStage::Reported,
            DisputeStage::Assessed,
            DisputeStage::Assigned,
            DisputeStage::ResolutionReported,
            DisputeStage::Verified,
            DisputeStage::Closed,
        ]
        .map(|s| (ItemKind::Dispute, s.as_str()));
        let order = [
            OrderStage::Issued,
            OrderStage::Acknowledged,
            OrderStage::FeedbackSubmitted,
            OrderStage::Closed,
        ]
        .map(|s| (ItemKind::SupervisionOrder, s.as_str()));
        let joint = ["open", "closed"].map(|s| (ItemKind::JointHandling, s));
        for (kind, stage) in matter.chain(dispute).chain(order).chain(joint) {
            let wire = item_stage(kind, stage);
            assert_ne!(wire, ledger::ItemStage::Unspecified, "{kind:?} {stage}");
            assert_eq!(stage_of(wire), Some((kind, stage.to_owned())));
        }
        assert_eq!(stage_of(ledger::ItemStage::Unspecified), None);
    }

    #[test]
    fn every_deadline_kind_has_its_wire_kind_and_back() {
        for kind in DeadlineKind::ALL {
            let wire = ledger::DeadlineKind::from(kind);
            assert_ne!(wire, ledger::DeadlineKind::Unspecified, "{kind:?}");
            assert_eq!(DeadlineKind::from_wire(wire), Some(kind));
        }
    }

    #[test]
    fn every_threshold_and_proposal_source_has_its_wire_value() {
        for t in [Threshold::DueSoon, Threshold::DueToday, Threshold::Overdue] {
            assert_ne!(ledger::Threshold::from(t), ledger::Threshold::Unspecified);
        }
        let day = NaiveDate::from_ymd_opt(2026, 5, 6).expect("a date");
        for (source, wire) in [
            (
                ProposalSource::OverdueDeadline {
                    deadline: DeadlineKind::Handling,
                    due_on: day,
                },
                ledger::ProposalSource::OverdueDeadline,
            ),
            (
                ProposalSource::BreachedObligation {
                    agreement_id: "A1".into(),
                    obligation_id: "O1".into(),
                },
                ledger::ProposalSource::BreachedObligation,
            ),
            (
                ProposalSource::UnansweredOrder { due_on: day },
                ledger::ProposalSource::UnansweredOrder,
            ),
        ] {
            assert_eq!(proposal_source(&source), wire);
        }
    }

    #[test]
    fn a_date_is_refused_unless_it_is_a_calendar_day() {
        let d = |year, month, day| Date { year, month, day };
        assert_eq!(
            day("due_before", Some(&d(2026, 2, 28))),
            Ok(NaiveDate::from_ymd_opt(2026, 2, 28))
        );
        for bad in [
            d(2026, 2, 29),
            d(2026, 0, 1),
            d(0, 1, 1),
            d(2026, 13, 1),
            d(2026, 1, -1),
        ] {
            let e = day("due_before", Some(&bad)).expect_err("not a day");
            assert_eq!(e.field, "due_before");
        }
        assert_eq!(day("due_before", None), Ok(None));
        assert!(required_day("from_date", None).is_err());
    }
}
