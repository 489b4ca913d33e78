//! The one conversion layer between the wire (the generated types) and the domain, used by the agency
//! services, the ledger API and the client alike. Reading a field from the wire names the field when the
//! value is missing, unknown or has no meaning in the domain: a proto `*_UNSPECIFIED` is an error, never
//! folded into a real value. Text limits of request fields are checked here, once.

use chrono::NaiveDate;
use oneledger_domain::clock::Deadline;
use oneledger_domain::dispute::{DisputeSource, RiskLevel};
use oneledger_domain::ids::MAX_ITEM_ID_CHARS;
use oneledger_domain::joint::CoHandlerRole;
use oneledger_domain::petition::{
    Agreement, AgreementKind, Channel, ClaimClass, ClaimRoute, HandlingOutcome, IntakeOutcome,
    Obligor, PersonalField, ReviewOutcome,
};
use oneledger_domain::supervision::EscalationLevel;
use oneledger_domain::{Agency, HolidayCalendar, ItemKind, ItemRef, Unit, UnitKind};

pub mod ledger;

use crate::common::v1 as common;
use crate::directory::v1 as directory;
use crate::dispute::v1 as dispute;
use crate::petition::v1 as petition;
use crate::political_legal::v1 as political_legal;

/// A request field the domain cannot take: gRPC `INVALID_ARGUMENT`, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct WireError {
    /// The field, as the request names it (`report.source`, `co_handlers[2].role`).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl WireError {
    /// `field` is wrong for `reason`.
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        WireError {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

impl From<WireError> for tonic::Status {
    /// `INVALID_ARGUMENT`, with a BadRequest naming the field; the text [`bounded`].
    fn from(e: WireError) -> Self {
        use tonic_types::{ErrorDetails, StatusExt};
        let (field, reason) = (bounded(&e.field), bounded(&e.reason));
        tonic::Status::with_error_details(
            tonic::Code::InvalidArgument,
            format!("invalid {field}: {reason}"),
            ErrorDetails::with_bad_request_violation(field, reason),
        )
    }
}

/// Most characters of a message's text sent back to a client. A reason may quote what the caller sent;
/// quoting all of a 50,000-character field would put the status past common clients' metadata limits
/// (they then see RESOURCE_EXHAUSTED instead of the error), so only a prefix is quoted.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// `text` as a client may be sent it: at most [`MAX_MESSAGE_CHARS`] characters, then how many were left
/// out; control characters and bidirectional marks written as `\u{…}`, so a quoted id can neither break
/// a log line nor reorder what a reader sees.
pub fn bounded(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_MESSAGE_CHARS * 4));
    let mut chars = text.chars();
    for c in chars.by_ref().take(MAX_MESSAGE_CHARS) {
        if c.is_control() || is_bidi_mark(c) {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    let left = chars.count();
    if left > 0 {
        out.push_str(&format!("…(+{left} characters)"));
    }
    out
}

/// The marks that change the direction of the text around them (Unicode bidi controls).
pub fn is_bidi_mark(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A domain value that comes from a proto enum.
pub trait FromWire: Sized {
    /// The generated enum.
    type Wire: TryFrom<i32>;
    /// What the field must be, for the error when the value has no domain meaning.
    const EXPECTED: &'static str;
    /// The domain value, or `None` for `*_UNSPECIFIED` or a value that means nothing here.
    fn from_wire(wire: Self::Wire) -> Option<Self>;
}

/// The domain value of the enum field `field`: refused when unspecified, unknown or meaningless here.
pub fn enum_field<D: FromWire>(field: &str, raw: i32) -> Result<D, WireError> {
    if raw == 0 {
        return Err(WireError::new(field, "required"));
    }
    let wire = D::Wire::try_from(raw)
        .map_err(|_| WireError::new(field, format!("unknown value {raw}")))?;
    D::from_wire(wire).ok_or_else(|| WireError::new(field, D::EXPECTED))
}

/// Like [`enum_field`] for a field that may be left unspecified.
pub fn optional_enum_field<D: FromWire>(field: &str, raw: i32) -> Result<Option<D>, WireError> {
    if raw == 0 {
        return Ok(None);
    }
    enum_field(field, raw).map(Some)
}

/// A proto enum value of this version, refusing unspecified and unknown values (for enums that stay
/// on the wire side, such as a request's stated purpose).
pub fn known<E: TryFrom<i32>>(field: &str, raw: i32) -> Result<E, WireError> {
    if raw == 0 {
        return Err(WireError::new(field, "required"));
    }
    E::try_from(raw).map_err(|_| WireError::new(field, format!("unknown value {raw}")))
}

/// One-to-one enums: the wire variant for each domain variant, both ways.
macro_rules! one_to_one {
    ($domain:ty => $wire:ty, $expected:literal, { $($d:ident => $w:ident),+ $(,)? }) => {
        impl FromWire for $domain {
            type Wire = $wire;
            const EXPECTED: &'static str = $expected;
            fn from_wire(wire: $wire) -> Option<Self> {
                match wire {
                    $(<$wire>::$w => Some(<$domain>::$d),)+
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }

        impl From<$domain> for $wire {
            fn from(value: $domain) -> Self {
                match value {
                    $(<$domain>::$d => <$wire>::$w,)+
                }
            }
        }
    };
}

one_to_one!(Agency => common::Agency, "petition, public_security or political_legal", {
    Petition => Petition, PublicSecurity => PublicSecurity, PoliticalLegal => PoliticalLegal,
});
one_to_one!(ItemKind => common::ItemKind, "an item kind", {
    PetitionMatter => PetitionMatter,
    Dispute => Dispute,
    JointHandling => JointHandling,
    SupervisionOrder => SupervisionOrder,
});
one_to_one!(UnitKind => directory::UnitKind, "a kind of unit", {
    DistrictCommittee => DistrictCommittee,
    DistrictGovernment => DistrictGovernment,
    PetitionOffice => PetitionOffice,
    PoliticalLegalCommittee => PoliticalLegalCommittee,
    PublicSecurityBureau => PublicSecurityBureau,
    PoliceStation => PoliceStation,
    JudicialBureau => JudicialBureau,
    JudicialOffice => JudicialOffice,
    Court => Court,
    PeopleTribunal => PeopleTribunal,
    Procuratorate => Procuratorate,
    ProcuratorateOffice => ProcuratorateOffice,
    DevelopmentZone => DevelopmentZone,
    Subdistrict => Subdistrict,
    Town => Town,
    Department => Department,
    MediationBody => MediationBody,
    HigherLevelUnit => HigherLevelUnit,
});
one_to_one!(Channel => petition::Channel, "visit, letter, online or phone", {
    Visit => Visit, Letter => Letter, Online => Online, Phone => Phone,
});
one_to_one!(ClaimClass => petition::ClaimClass, "a suggestion, an accusation or a claim", {
    Suggestion => Suggestion, Accusation => Accusation, Claim => Claim,
});
one_to_one!(ClaimRoute => petition::ClaimRoute, "one of the six routes of art. 31", {
    Litigation => Litigation,
    Arbitration => Arbitration,
    PartyAppeal => PartyAppeal,
    AdministrativeProcedure => AdministrativeProcedure,
    OwnDuty => OwnDuty,
    PetitionRoute => PetitionRoute,
});
one_to_one!(HandlingOutcome => petition::Outcome,
    "a handling opinion is supported, explained or not supported", {
    Supported => Supported, Explained => Explained, NotSupported => NotSupported,
});
one_to_one!(ReviewOutcome => petition::Outcome, "a review opinion upholds, changes or revokes", {
    Upheld => Upheld, Changed => Changed, Revoked => Revoked,
});
one_to_one!(PersonalField => petition::PersonalField, "name, id_number, phone, address or narrative", {
    Name => Name, IdNumber => IdNumber, Phone => Phone, Address => Address, Narrative => Narrative,
});
one_to_one!(IntakeOutcome => petition::IntakeOutcome, "an intake outcome", {
    FirstPetition => FirstPetition,
    Merged => Merged,
    NotAcceptedAgain => NotAcceptedAgain,
    RepeatNewMatter => RepeatNewMatter,
    PossibleRepeat => PossibleRepeat,
});
one_to_one!(AgreementKind => common::AgreementKind, "mediation, settlement or cease_petitioning", {
    Mediation => Mediation, Settlement => Settlement, CeasePetitioning => CeasePetitioning,
});
one_to_one!(DisputeSource => dispute::Source, "a screening, policing or a unit's report", {
    DailyScreening => DailyScreening,
    CentralizedScreening => CentralizedScreening,
    SpecialScreening => SpecialScreening,
    Policing => Policing,
    UnitReport => UnitReport,
});
one_to_one!(RiskLevel => dispute::RiskLevel, "low, medium, high or major", {
    Low => Low, Medium => Medium, High => High, Major => Major,
});
one_to_one!(CoHandlerRole => political_legal::CoHandlerRole, "a co-handling unit's role", {
    TerritorialUnit => TerritorialUnit,
    PoliceStation => PoliceStation,
    JudicialOffice => JudicialOffice,
    PeoplesTribunal => PeoplesTribunal,
    ProcuratorateOffice => ProcuratorateOffice,
    MediationBody => MediationBody,
    Department => Department,
});
one_to_one!(EscalationLevel => political_legal::Escalation, "a step of the escalation ladder", {
    Interview => Interview,
    PublicNotice => PublicNotice,
    ListedSupervision => ListedSupervision,
    BackwardInvestigation => BackwardInvestigation,
    AccountabilityRecommendation => AccountabilityRecommendation,
});

/// A required text field of at most `max` characters, trimmed.
pub fn required(field: &str, raw: &str, max: usize) -> Result<String, WireError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(WireError::new(field, "required"));
    }
    optional(field, value, max).map(|v| v.unwrap_or_default())
}

/// An optional text field of at most `max` characters, trimmed (`None` when empty).
pub fn optional(field: &str, raw: &str, max: usize) -> Result<Option<String>, WireError> {
    let value = raw.trim();
    let n = value.chars().count();
    if n > max {
        return Err(WireError::new(
            field,
            format!("at most {max} characters, got {n}"),
        ));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// A required id field (an item, unit, person or request id a caller names): [`required`], and no
/// control character or bidirectional mark, which no id the system issues or the directory lists holds
/// (a caller sending one gets INVALID_ARGUMENT naming the field, never a lookup that fails deeper).
pub fn required_id(field: &str, raw: &str, max: usize) -> Result<String, WireError> {
    let value = required(field, raw, max)?;
    plain_id(field, &value)?;
    Ok(value)
}

/// Like [`required_id`] for an id that may be left empty.
pub fn optional_id(field: &str, raw: &str, max: usize) -> Result<Option<String>, WireError> {
    let value = optional(field, raw, max)?;
    if let Some(v) = &value {
        plain_id(field, v)?;
    }
    Ok(value)
}

fn plain_id(field: &str, value: &str) -> Result<(), WireError> {
    match value
        .chars()
        .position(|c| c.is_control() || is_bidi_mark(c))
    {
        Some(at) => Err(WireError::new(
            field,
            format!(
                "holds a control character or direction mark at character {}",
                at + 1
            ),
        )),
        None => Ok(()),
    }
}

/// An ISO date field.
pub fn date(field: &str, raw: &str) -> Result<NaiveDate, WireError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| WireError::new(field, format!("{raw:?} is not an ISO date (YYYY-MM-DD)")))
}

/// A required item reference.
pub fn item(field: &str, raw: Option<&common::ItemRef>) -> Result<ItemRef, WireError> {
    let raw = raw.ok_or_else(|| WireError::new(field, "required"))?;
    let kind = enum_field::<ItemKind>(&format!("{field}.kind"), raw.kind)?;
    let id = required_id(&format!("{field}.id"), &raw.id, MAX_ITEM_ID_CHARS)?;
    Ok(ItemRef::new(kind, id))
}

impl From<&ItemRef> for common::ItemRef {
    fn from(item: &ItemRef) -> Self {
        common::ItemRef {
            kind: common::ItemKind::from(item.kind()) as i32,
            id: item.id().to_owned(),
        }
    }
}

impl From<&Unit> for directory::Unit {
    fn from(unit: &Unit) -> Self {
        let id = |u: Option<&oneledger_domain::UnitId>| u.map(|u| u.0.clone()).unwrap_or_default();
        let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        directory::Unit {
            unit_id: unit.id.0.clone(),
            name: unit.name.clone(),
            name_en: unit.name_en.clone(),
            kind: directory::UnitKind::from(unit.kind) as i32,
            parent_unit_id: id(unit.parent.as_ref()),
            reviewer_unit_id: id(unit.reviewer()),
            territory_unit_ids: unit.territories.iter().map(|t| t.0.clone()).collect(),
            valid_from: day(unit.valid_from),
            valid_to: day(unit.valid_to),
        }
    }
}

/// A deadline as it stands on `today`: its due date counts a running pause up to `today`.
pub fn deadline(d: &Deadline, calendar: &HolidayCalendar, today: NaiveDate) -> common::Deadline {
    common::Deadline {
        kind: d.kind.as_str().to_owned(),
        article: d.kind.rule().citation().to_owned(),
        due_on: d.due_on(calendar, today).to_string(),
        met_on: d.met_on.map(|m| m.to_string()).unwrap_or_default(),
        overdue: d.is_overdue(calendar, today),
        paused: d.paused_since.is_some(),
        provisional: d.is_provisional(calendar, today),
        // An item's own API shows its own clocks; the ledger names the item and the unit.
        item: None,
        duty_unit_id: String::new(),
    }
}

/// An agreement recorded on `matter_id`, as every API shows it: obligations in id order, a petitioner
/// obligor never named.
pub fn agreement(matter_id: &str, agreement_id: &str, a: &Agreement) -> common::AgreementRecord {
    common::AgreementRecord {
        matter_id: matter_id.to_owned(),
        agreement_id: agreement_id.to_owned(),
        kind: common::AgreementKind::from(a.kind) as i32,
        obligations: a
            .obligations
            .values()
            .map(|(o, state)| common::ObligationRecord {
                obligation_id: o.obligation_id.clone(),
                obligor_unit_id: match &o.obligor {
                    Obligor::Unit(unit) => unit.0.clone(),
                    Obligor::Petitioner(_) => String::new(),
                },
                owed_by_petitioner: matches!(o.obligor, Obligor::Petitioner(_)),
                description: o.description.clone(),
                due_on: o.due_on.to_string(),
                status: match state {
                    None => common::ObligationStatus::Open,
                    Some(true) => common::ObligationStatus::Met,
                    Some(false) => common::ObligationStatus::Breached,
                } as i32,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_message_quotes_a_bounded_prefix_with_controls_and_bidi_marks_escaped() {
        // Given a reason quoting 50,000 characters, and one quoting an id with a newline and an RLO mark
        let huge = format!("unknown unit `{}`", "滨".repeat(50_000));
        let sly = "unknown unit `a\nb\u{202e}c`";
        // When each is bounded, and sent as a status
        let (short, escaped) = (bounded(&huge), bounded(sly));
        let status: tonic::Status = WireError::new("unit_id", huge.clone()).into();
        // Then a prefix goes out with the count left out, and the marks are written out, not sent
        assert_eq!(
            short.chars().count(),
            MAX_MESSAGE_CHARS + "…(+49715 characters)".chars().count()
        );
        assert!(short.ends_with("…(+49715 characters)"), "{short}");
        assert_eq!(escaped, "unknown unit `a\\u{000a}b\\u{202e}c`");
        assert!(status.message().chars().count() < 2 * MAX_MESSAGE_CHARS);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(bounded("未办结"), "未办结");
    }

    use super::*;

    #[test]
    fn unspecified_is_refused_naming_the_field_never_folded_into_a_value() {
        // given the zero value of every enum, when read, then it is "required" for that field
        let e = enum_field::<RiskLevel>("step.assess", 0).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.reason.as_str()),
            ("step.assess", "required")
        );
        assert!(enum_field::<EscalationLevel>("escalate.level", 0).is_err());
        assert!(enum_field::<Channel>("channel", 0).is_err());
        // an unknown number is refused too
        assert!(
            enum_field::<ClaimClass>("claim_class", 99)
                .unwrap_err()
                .reason
                .contains("99")
        );
        // a review outcome is not a handling outcome
        let upheld = petition::Outcome::Upheld as i32;
        assert!(enum_field::<HandlingOutcome>("issue.outcome", upheld).is_err());
        assert_eq!(
            enum_field::<ReviewOutcome>("review.outcome", upheld),
            Ok(ReviewOutcome::Upheld)
        );
        assert_eq!(
            optional_enum_field::<ClaimRoute>("accept.route", 0),
            Ok(None)
        );
    }

    #[test]
    fn every_domain_value_goes_to_the_wire_and_back() {
        for level in [
            RiskLevel::Low,
            RiskLevel::Medium,
            RiskLevel::High,
            RiskLevel::Major,
        ] {
            let wire = dispute::RiskLevel::from(level) as i32;
            assert_eq!(enum_field::<RiskLevel>("level", wire), Ok(level));
        }
        for kind in UnitKind::ALL {
            let wire = directory::UnitKind::from(kind) as i32;
            assert_eq!(enum_field::<UnitKind>("kind", wire), Ok(kind));
        }
        for kind in ItemKind::ALL {
            let item = ItemRef::new(kind, "X1");
            let wire = common::ItemRef::from(&item);
            assert_eq!(super::item("item", Some(&wire)), Ok(item));
        }
    }

    #[test]
    fn text_fields_are_trimmed_and_bounded_in_characters() {
        assert_eq!(required("title", "  供暖  ", 2), Ok("供暖".to_owned()));
        assert!(required("title", "   ", 10).is_err());
        assert!(
            optional("title", "供暖纠纷", 3)
                .unwrap_err()
                .reason
                .contains("got 4")
        );
        assert_eq!(optional("title", "", 3), Ok(None));
    }
}
