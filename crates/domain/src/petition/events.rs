//! Everything that happens to a petition matter, as recorded.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{
    AgreementKind, Channel, ClaimClass, ClaimRoute, Diversion, HandlingOutcome, Obligation,
    PersonalField, ReplyKind, ReviewOutcome,
};
use crate::aggregate::DomainEvent;
use crate::clock::DeadlineKind;
use crate::ids::{MatterId, PersonRef, UnitId};

/// Everything that happens to a petition matter. Serialised with an `event` tag and a stable name.
///
/// Every variant's `at` is the instant its step was recorded; its legal (Beijing) date is the day periods
/// count from.
#[allow(missing_docs)] // `at`, the one field documented above rather than on each variant
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum MatterEvent {
    /// Registered by the petition office.
    Registered {
        at: DateTime<Utc>,
        /// The matter.
        matter_id: MatterId,
        /// The registering petition office.
        office: UnitId,
        /// How it came in.
        channel: Channel,
        /// The class seen at intake.
        claim_class: ClaimClass,
        /// Title.
        title: String,
        /// Petitioners.
        petitioners: Vec<PersonRef>,
        /// Collective size.
        collective_size: u32,
        /// Territory.
        territory: UnitId,
        /// Receipt number.
        receipt_number: String,
        /// Digest of the query code.
        query_code_digest: String,
        /// Accused unit of an accusation.
        accused_unit: Option<UnitId>,
        /// True for a first petition (初信初访).
        first_petition: bool,
        /// The root matter this one is linked to (repeat petitions).
        linked_to: Option<MatterId>,
        /// The category of the problem (问题类别), when filed.
        #[serde(default)]
        category: Option<String>,
        /// The unit the petition is about (被反映单位), when named.
        #[serde(default)]
        respondent: Option<UnitId>,
    },
    /// One petitioner's personal data, sealed under their own key (nothing in clear): recorded in the
    /// registration's append, never projected, opened only through the audited personal-data read.
    PersonalDataRecorded {
        at: DateTime<Utc>,
        /// The person.
        person_ref: PersonRef,
        /// Which fields were given (names only).
        fields: Vec<PersonalField>,
        /// The sealed identity.
        sealed_identity: String,
        /// The sealed narrative, when this person gave one.
        sealed_narrative: Option<String>,
        /// How the ref was derived (`hmac:<key id>` under a pseudonym key, `petition` for a ref of this
        /// petition alone): which refs a new key must link. None when recorded before this was kept.
        #[serde(default)]
        derived_under: Option<String>,
    },
    /// Intake could not tell whether this is a repeat of an earlier matter of the same petitioner (the
    /// same unit, another category or none filed): registered as a first petition until a clerk decides.
    PossibleRepeatFlagged {
        at: DateTime<Utc>,
        /// The earlier matter it may repeat.
        of: MatterId,
        /// That matter's receipt number, for the clerk.
        receipt_number: String,
    },
    /// The clerk confirmed the flagged repeat: the matter joins its original's root.
    RepeatConfirmed {
        at: DateTime<Utc>,
        /// The original's root.
        original: MatterId,
    },
    /// The clerk found the flagged registration a claim of its own.
    RepeatDismissed {
        at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// A repeat petition merged into its open original.
    MergedIntoOriginal {
        at: DateTime<Utc>,
        /// The original's root.
        original: MatterId,
    },
    /// A repeat petition on a concluded or final matter, not accepted again (art. 36 ¶3).
    NotAcceptedAgain {
        at: DateTime<Utc>,
        /// The concluded original.
        original: MatterId,
        /// The notice given to the petitioner.
        notice: String,
        /// The original's receipt number.
        #[serde(default)]
        original_receipt: String,
        /// The day the original became final or was concluded.
        #[serde(default)]
        closed_on: Option<NaiveDate>,
    },
    /// Forwarded (转送).
    Forwarded {
        at: DateTime<Utc>,
        /// Responsible unit.
        to: UnitId,
        /// Territorial unit.
        territorial_unit: Option<UnitId>,
    },
    /// Assigned (交办).
    Assigned {
        at: DateTime<Utc>,
        /// Responsible unit.
        to: UnitId,
        /// Territorial unit.
        territorial_unit: Option<UnitId>,
    },
    /// Diverted out of the petition procedure at intake.
    Diverted {
        at: DateTime<Utc>,
        /// Why.
        diversion: Diversion,
        /// Receiving organ.
        to: UnitId,
        /// Competent channel.
        channel: String,
    },
    /// Received by the responsible unit.
    Received { at: DateTime<Utc> },
    /// Notice of receipt sent (art. 23).
    ReceiptNoticeSent { at: DateTime<Utc> },
    /// Routing objected (art. 23 ¶3).
    RoutingObjected {
        at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// The objection decided.
    RoutingObjectionDecided {
        at: DateTime<Utc>,
        /// True when upheld.
        upheld: bool,
    },
    /// Accepted (受理).
    Accepted {
        at: DateTime<Utc>,
        /// Class.
        class: ClaimClass,
        /// Route of a claim.
        route: Option<ClaimRoute>,
        /// Accused unit of an accusation.
        accused_unit: Option<UnitId>,
    },
    /// Channelled into another procedure (导入), routes 1–5.
    Channelled {
        at: DateTime<Utc>,
        /// The route.
        route: ClaimRoute,
        /// The competent channel.
        channel: String,
    },
    /// An accusation referred to discipline inspection (art. 30).
    ReferredToDiscipline { at: DateTime<Utc> },
    /// Not accepted (不予受理).
    NotAccepted {
        at: DateTime<Utc>,
        /// Why.
        reason: String,
        /// Competent channel.
        competent_channel: String,
    },
    /// Handling extended (延期, art. 34).
    HandlingExtended {
        at: DateTime<Utc>,
        /// Days added.
        days: u32,
        /// Approving unit.
        approver: UnitId,
        /// Reason told to the petitioner.
        reason: String,
    },
    /// An agreement recorded (art. 33).
    AgreementRecorded {
        at: DateTime<Utc>,
        /// Agreement id.
        agreement_id: String,
        /// Kind.
        kind: AgreementKind,
        /// Obligations.
        obligations: Vec<Obligation>,
    },
    /// An obligation met.
    ObligationMet {
        at: DateTime<Utc>,
        /// Agreement.
        agreement_id: String,
        /// Obligation.
        obligation_id: String,
    },
    /// An obligation breached.
    ObligationBreached {
        at: DateTime<Utc>,
        /// Agreement.
        agreement_id: String,
        /// Obligation.
        obligation_id: String,
        /// The unit in breach, when an agency breached: a supervision order is due.
        supervision_due_for: Option<UnitId>,
    },
    /// The handling opinion issued (art. 32).
    HandlingOpinionIssued {
        at: DateTime<Utc>,
        /// Outcome.
        outcome: HandlingOutcome,
    },
    /// A written reply delivered (送达).
    ReplyDelivered {
        at: DateTime<Utc>,
        /// Which reply.
        reply: ReplyKind,
        /// Day of delivery.
        delivered_on: NaiveDate,
    },
    /// Review requested (art. 35).
    ReviewRequested {
        at: DateTime<Utc>,
        /// Reviewing unit.
        reviewing_unit: UnitId,
    },
    /// Review opinion issued.
    ReviewOpinionIssued {
        at: DateTime<Utc>,
        /// Outcome.
        outcome: ReviewOutcome,
    },
    /// Re-review requested (art. 36).
    ReReviewRequested {
        at: DateTime<Utc>,
        /// Re-reviewing unit.
        re_reviewing_unit: UnitId,
    },
    /// A hearing opened.
    HearingOpened {
        at: DateTime<Utc>,
        /// Organising unit.
        organiser: UnitId,
    },
    /// The hearing closed.
    HearingClosed { at: DateTime<Utc> },
    /// Re-review opinion issued.
    ReReviewOpinionIssued {
        at: DateTime<Utc>,
        /// Outcome.
        outcome: ReviewOutcome,
    },
    /// Concluded after re-review (依法终结).
    Concluded { at: DateTime<Utc> },
    /// Final: a petitioner's window lapsed.
    BecameFinal {
        at: DateTime<Utc>,
        /// The window that lapsed.
        window: DeadlineKind,
        /// Its last day.
        lapsed_after: NaiveDate,
    },
    /// A supported claim implemented.
    ImplementationRecorded { at: DateTime<Utc> },
}

impl DomainEvent for MatterEvent {
    const AGGREGATE: &'static str = "matter";

    fn name(&self) -> &'static str {
        match self {
            MatterEvent::Registered { .. } => "registered",
            MatterEvent::PersonalDataRecorded { .. } => MatterEvent::PERSONAL_DATA_RECORDED,
            MatterEvent::PossibleRepeatFlagged { .. } => "possible_repeat_flagged",
            MatterEvent::RepeatConfirmed { .. } => "repeat_confirmed",
            MatterEvent::RepeatDismissed { .. } => "repeat_dismissed",
            MatterEvent::MergedIntoOriginal { .. } => "merged_into_original",
            MatterEvent::NotAcceptedAgain { .. } => "not_accepted_again",
            MatterEvent::Forwarded { .. } => "forwarded",
            MatterEvent::Assigned { .. } => "assigned",
            MatterEvent::Diverted { .. } => "diverted",
            MatterEvent::Received { .. } => "received",
            MatterEvent::ReceiptNoticeSent { .. } => "receipt_notice_sent",
            MatterEvent::RoutingObjected { .. } => "routing_objected",
            MatterEvent::RoutingObjectionDecided { .. } => "routing_objection_decided",
            MatterEvent::Accepted { .. } => "accepted",
            MatterEvent::Channelled { .. } => "channelled",
            MatterEvent::ReferredToDiscipline { .. } => "referred_to_discipline",
            MatterEvent::NotAccepted { .. } => "not_accepted",
            MatterEvent::HandlingExtended { .. } => "handling_extended",
            MatterEvent::AgreementRecorded { .. } => "agreement_recorded",
            MatterEvent::ObligationMet { .. } => "obligation_met",
            MatterEvent::ObligationBreached { .. } => "obligation_breached",
            MatterEvent::HandlingOpinionIssued { .. } => "handling_opinion_issued",
            MatterEvent::ReplyDelivered { .. } => "reply_delivered",
            MatterEvent::ReviewRequested { .. } => "review_requested",
            MatterEvent::ReviewOpinionIssued { .. } => "review_opinion_issued",
            MatterEvent::ReReviewRequested { .. } => "re_review_requested",
            MatterEvent::HearingOpened { .. } => "hearing_opened",
            MatterEvent::HearingClosed { .. } => "hearing_closed",
            MatterEvent::ReReviewOpinionIssued { .. } => "re_review_opinion_issued",
            MatterEvent::Concluded { .. } => "concluded",
            MatterEvent::BecameFinal { .. } => "became_final",
            MatterEvent::ImplementationRecorded { .. } => "implementation_recorded",
        }
    }
}

impl MatterEvent {
    /// The name of [`MatterEvent::PersonalDataRecorded`]: readers that want only personal data tell
    /// its events by type, without decoding the others.
    pub const PERSONAL_DATA_RECORDED: &'static str = "personal_data_recorded";

    /// The root this event joins the matter to, for the ledger's entry: a repeat registered against
    /// its original, or one a clerk confirmed.
    pub fn joins_root(&self) -> Option<&MatterId> {
        match self {
            MatterEvent::Registered { linked_to, .. } => linked_to.as_ref(),
            MatterEvent::RepeatConfirmed { original, .. } => Some(original),
            _ => None,
        }
    }
}
