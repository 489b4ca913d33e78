//! The petition matter (信访事项) under the 2022 Regulations on Letters and Visits: registration, routing,
//! acceptance by class and route, handling with its statutory clocks, review (复查), re-review (复核),
//! hearings, agreements, and lawful conclusion (依法终结).
//!
//! Review, re-review and hearings are kept inside the matter rather than in aggregates of their own: each
//! changes what the matter itself may do next (whether it can be accepted again, which clock runs), so one
//! consistency boundary is the simpler correct model. The units doing them are recorded per step.
//!
//! Where the Regulations are silent, choices are said in the doc comment of the step concerned.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Command, DomainEvent, Rules};
use crate::clock::{Deadline, DeadlineKind, legal_date};
use crate::error::DomainError;
use crate::ids::{MatterId, PersonRef, UnitId, id_field, text};

/// Longest title of a matter, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest free-text reason or channel name, in characters.
pub const MAX_REASON_CHARS: usize = 1000;
/// Most days one handling extension may add (art. 34).
pub const MAX_EXTENSION_DAYS: u32 = 30;
/// Petitioners from which a visit counts as collective (集体访), as the Regulations' practice sets it.
pub const COLLECTIVE_THRESHOLD: u32 = 5;

/// How the petition came in (信访形式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// In person (走访).
    Visit,
    /// By letter (来信).
    Letter,
    /// Online (网上信访).
    Online,
    /// By telephone.
    Phone,
}

/// The legal class of a claim (art. 28–31).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimClass {
    /// 建议意见 (art. 29).
    Suggestion,
    /// 检举控告 (art. 30): routed to discipline inspection, never disclosed to the accused.
    Accusation,
    /// 申诉求决 (art. 31): routed by [`ClaimRoute`].
    Claim,
}

/// The six routes of a claim (art. 31).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimRoute {
    /// (1) Litigation: to the political-legal organs (诉访分离).
    Litigation,
    /// (2) Arbitration.
    Arbitration,
    /// (3) Party appeal.
    PartyAppeal,
    /// (4) Administrative procedures (reconsideration, ruling, …).
    AdministrativeProcedure,
    /// (5) The unit's own statutory duty.
    OwnDuty,
    /// (6) The petition route, with a written handling opinion (art. 32).
    PetitionRoute,
}

impl ClaimRoute {
    /// True for routes (1)–(5), which channel the claim into another procedure (导入).
    pub fn is_channelled(self) -> bool {
        self != ClaimRoute::PetitionRoute
    }
}

/// Why the petition office sends a matter out of the petition procedure at intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Diversion {
    /// Litigation-related: to the political-legal organs (诉访分离).
    LitigationRelated,
    /// An accusation: to discipline inspection (art. 30).
    Accusation,
    /// A claim for another statutory procedure (routes 2–4).
    OtherProcedure,
}

/// The written handling opinion's outcome (信访处理意见书, art. 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlingOutcome {
    /// 支持: supported.
    Supported,
    /// 解释说明: explained.
    Explained,
    /// 不予支持: not supported.
    NotSupported,
}

/// What a review or re-review decided of the opinion before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The earlier opinion stands.
    Upheld,
    /// The earlier opinion is changed.
    Changed,
    /// The earlier opinion is revoked and the matter handled anew.
    Revoked,
}

/// Which written reply was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// The handling opinion, or the answer to a suggestion.
    Handling,
    /// The review opinion.
    Review,
    /// The re-review opinion.
    ReReview,
}

/// A mediation or settlement agreement (art. 33).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    /// 调解协议.
    Mediation,
    /// 和解协议.
    Settlement,
}

/// Who owes an obligation of an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Obligor {
    /// A unit (an agency): its breach raises a supervision order.
    Unit(UnitId),
    /// A petitioner.
    Petitioner(PersonRef),
}

/// One obligation of an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obligation {
    /// Id within the agreement.
    pub obligation_id: String,
    /// Who owes it.
    pub obligor: Obligor,
    /// What is owed, in words (no personal data).
    pub description: String,
    /// By when.
    pub due_on: NaiveDate,
}

/// What intake found about earlier petitions of the same petitioner on the same matter; the service looks
/// the earlier matter up and the clerk says whether the facts are new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PriorPetition {
    /// No earlier petition on this matter: a first petition (初信初访).
    None,
    /// The same petitioner petitioned on the same matter before.
    SameMatter {
        /// The earlier matter as it stands.
        original: MatterSummary,
        /// True when the petitioner brings new facts or reasons.
        new_facts: bool,
    },
}

/// What another matter's intake needs to know of this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatterSummary {
    /// The matter.
    pub matter_id: MatterId,
    /// The root of its links (itself when unlinked): links always point at a root, never form a tree.
    pub root: MatterId,
    /// Its stage.
    pub stage: Stage,
}

/// The matter's stage. [`Stage::is_closed`] says which are closed (办结).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Nothing recorded yet.
    #[default]
    Unregistered,
    /// Registered by the petition office; to be forwarded or assigned (art. 22).
    Registered,
    /// Forwarded (转送) to the responsible unit.
    Forwarded,
    /// Assigned (交办) to the responsible unit.
    Assigned,
    /// Received by the responsible unit.
    Received,
    /// The responsible unit objected to the routing; the petition office decides.
    RoutingObjected,
    /// Accepted and being handled.
    Handling,
    /// The handling opinion is issued, not yet delivered.
    OpinionIssued,
    /// The handling opinion is delivered; the review window runs.
    Replied,
    /// Under review by the unit one level up.
    UnderReview,
    /// The review opinion is issued, not yet delivered.
    ReviewOpinionIssued,
    /// The review opinion is delivered; the re-review window runs.
    ReviewReplied,
    /// Under re-review.
    UnderReReview,
    /// The re-review opinion is issued, not yet delivered.
    ReReviewOpinionIssued,
    /// Concluded after re-review (依法终结): not accepted again on the same facts.
    Concluded,
    /// Final: a review or re-review window lapsed. Not accepted again on the same facts.
    Final,
    /// Channelled into litigation, arbitration, Party appeal, administrative or the unit's own procedure.
    Channelled,
    /// Diverted at intake by the petition office.
    Diverted,
    /// Not accepted (不予受理), naming the competent channel.
    NotAccepted,
    /// An accusation referred to discipline inspection.
    ReferredToDiscipline,
    /// A suggestion answered.
    Answered,
    /// A repeat petition merged into its open original.
    Merged,
    /// A repeat petition on a concluded matter, not accepted again (不再受理, art. 36 ¶3).
    NotAcceptedAgain,
}

impl Stage {
    /// True when the matter is closed (办结).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Stage::Concluded
                | Stage::Final
                | Stage::Channelled
                | Stage::Diverted
                | Stage::NotAccepted
                | Stage::ReferredToDiscipline
                | Stage::Answered
                | Stage::Merged
                | Stage::NotAcceptedAgain
        )
    }

    /// True when the same facts may never be accepted again (art. 36 ¶3).
    pub fn bars_same_facts(self) -> bool {
        matches!(self, Stage::Concluded | Stage::Final)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        f.write_str(&s)
    }
}

/// A command to a petition matter.
pub type MatterCommand = Command<MatterAction>;

/// The acts on a petition matter.
#[derive(Debug, Clone, PartialEq)]
pub enum MatterAction {
    /// Register a petition (登记), with intake's finding about earlier petitions.
    Register(Registration),
    /// Forward (转送) to the unit responsible (art. 22).
    Forward {
        /// The responsible unit (属事).
        to: UnitId,
        /// The territorial unit (属地), if another.
        territorial_unit: Option<UnitId>,
    },
    /// Assign (交办) to the unit responsible, with the petition office following up (art. 22).
    Assign {
        /// The responsible unit.
        to: UnitId,
        /// The territorial unit, if another.
        territorial_unit: Option<UnitId>,
    },
    /// Send the matter out of the petition procedure at intake.
    Divert {
        /// Why.
        diversion: Diversion,
        /// The receiving organ.
        to: UnitId,
        /// The competent channel, named for the petitioner.
        channel: String,
    },
    /// The responsible unit records receipt.
    Receive,
    /// The responsible unit sends the written notice of receipt and route (art. 23).
    SendReceiptNotice,
    /// The responsible unit objects that the matter is not its own (art. 23 ¶3).
    ObjectToRouting {
        /// Why.
        reason: String,
    },
    /// The petition office decides an objection: upheld sends the matter back to it for routing.
    DecideRoutingObjection {
        /// True when the objection holds.
        upheld: bool,
    },
    /// Accept (受理) with the claim's class and, for a claim, its route.
    Accept {
        /// The legal class.
        class: ClaimClass,
        /// The route of a claim; none for suggestions and accusations.
        route: Option<ClaimRoute>,
        /// For routes 1–5: the competent channel, named for the petitioner.
        channel: Option<String>,
        /// For an accusation: the accused unit, which must never see the petitioner.
        accused_unit: Option<UnitId>,
    },
    /// Not accept (不予受理), naming the competent channel.
    NotAccept {
        /// Why.
        reason: String,
        /// Where the petitioner should turn.
        competent_channel: String,
    },
    /// Extend handling once by at most 30 days, with approval and a reason told to the petitioner (art. 34).
    ExtendHandling {
        /// Days added.
        days: u32,
        /// The approving unit.
        approver: UnitId,
        /// The reason, told to the petitioner.
        reason: String,
    },
    /// Record a mediation or settlement agreement (art. 33).
    RecordAgreement {
        /// Id of the agreement within the matter.
        agreement_id: String,
        /// Mediation or settlement.
        kind: AgreementKind,
        /// What each party owes.
        obligations: Vec<Obligation>,
    },
    /// An obligation was met.
    RecordObligationMet {
        /// The agreement.
        agreement_id: String,
        /// The obligation.
        obligation_id: String,
    },
    /// An obligation was breached; by an agency, it raises a supervision order.
    RecordObligationBreached {
        /// The agreement.
        agreement_id: String,
        /// The obligation.
        obligation_id: String,
    },
    /// Issue the written handling opinion (art. 32).
    IssueHandlingOpinion {
        /// Supported, explained or not supported.
        outcome: HandlingOutcome,
    },
    /// Deliver (送达) the pending written reply; `delivered_on` starts the petitioner's window.
    DeliverReply {
        /// The day of delivery.
        delivered_on: NaiveDate,
    },
    /// The petitioner asks for review (复查) by the unit one level up (art. 35).
    RequestReview {
        /// The reviewing unit, one level above the responsible unit.
        reviewing_unit: UnitId,
    },
    /// Issue the review opinion (art. 35).
    IssueReviewOpinion {
        /// What the review decided.
        outcome: ReviewOutcome,
    },
    /// The petitioner asks for re-review (复核) by the next level up (art. 36).
    RequestReReview {
        /// The re-reviewing unit.
        re_reviewing_unit: UnitId,
    },
    /// Open a hearing (听证); during re-review it stops the re-review clock (art. 36 ¶2).
    OpenHearing,
    /// Close the hearing.
    CloseHearing,
    /// Issue the re-review opinion (art. 36).
    IssueReReviewOpinion {
        /// What the re-review decided.
        outcome: ReviewOutcome,
    },
    /// Record that a petitioner's window lapsed unused: the matter is final.
    RecordFinality,
    /// Record that a supported claim was implemented.
    RecordImplementation,
}

/// What registration records.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// The new matter's id.
    pub matter_id: MatterId,
    /// How it came in.
    pub channel: Channel,
    /// The class the petition office sees at intake (the responsible unit may classify anew on acceptance).
    pub claim_class: ClaimClass,
    /// A short title, no personal data.
    pub title: String,
    /// The petitioners, pseudonymous.
    pub petitioners: Vec<PersonRef>,
    /// People represented (collective size, ≥ the petitioners).
    pub collective_size: u32,
    /// The territory (a sub-district or town) where the matter arose.
    pub territory: UnitId,
    /// The receipt number given to the petitioner (受理凭证).
    pub receipt_number: String,
    /// Digest of the unguessable query code given to the petitioner (the code itself is never stored).
    pub query_code_digest: String,
    /// For an accusation known at intake: the accused unit.
    pub accused_unit: Option<UnitId>,
    /// Earlier petitions on the same matter.
    pub prior: PriorPetition,
}

/// Everything that happens to a petition matter. Serialised with an `event` tag and a stable name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum MatterEvent {
    /// Registered by the petition office.
    Registered {
        /// When.
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
    },
    /// A repeat petition merged into its open original.
    MergedIntoOriginal {
        /// When.
        at: DateTime<Utc>,
        /// The original's root.
        original: MatterId,
    },
    /// A repeat petition on a concluded or final matter, not accepted again (art. 36 ¶3).
    NotAcceptedAgain {
        /// When.
        at: DateTime<Utc>,
        /// The concluded original.
        original: MatterId,
        /// The notice given to the petitioner.
        notice: String,
    },
    /// Forwarded (转送).
    Forwarded {
        /// When.
        at: DateTime<Utc>,
        /// Responsible unit.
        to: UnitId,
        /// Territorial unit.
        territorial_unit: Option<UnitId>,
    },
    /// Assigned (交办).
    Assigned {
        /// When.
        at: DateTime<Utc>,
        /// Responsible unit.
        to: UnitId,
        /// Territorial unit.
        territorial_unit: Option<UnitId>,
    },
    /// Diverted out of the petition procedure at intake.
    Diverted {
        /// When.
        at: DateTime<Utc>,
        /// Why.
        diversion: Diversion,
        /// Receiving organ.
        to: UnitId,
        /// Competent channel.
        channel: String,
    },
    /// Received by the responsible unit.
    Received {
        /// When.
        at: DateTime<Utc>,
    },
    /// Notice of receipt sent (art. 23).
    ReceiptNoticeSent {
        /// When.
        at: DateTime<Utc>,
    },
    /// Routing objected (art. 23 ¶3).
    RoutingObjected {
        /// When.
        at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// The objection decided.
    RoutingObjectionDecided {
        /// When.
        at: DateTime<Utc>,
        /// True when upheld.
        upheld: bool,
    },
    /// Accepted (受理).
    Accepted {
        /// When.
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
        /// When.
        at: DateTime<Utc>,
        /// The route.
        route: ClaimRoute,
        /// The competent channel.
        channel: String,
    },
    /// An accusation referred to discipline inspection (art. 30).
    ReferredToDiscipline {
        /// When.
        at: DateTime<Utc>,
    },
    /// Not accepted (不予受理).
    NotAccepted {
        /// When.
        at: DateTime<Utc>,
        /// Why.
        reason: String,
        /// Competent channel.
        competent_channel: String,
    },
    /// Handling extended (延期, art. 34).
    HandlingExtended {
        /// When.
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
        /// When.
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
        /// When.
        at: DateTime<Utc>,
        /// Agreement.
        agreement_id: String,
        /// Obligation.
        obligation_id: String,
    },
    /// An obligation breached.
    ObligationBreached {
        /// When.
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
        /// When.
        at: DateTime<Utc>,
        /// Outcome.
        outcome: HandlingOutcome,
    },
    /// A written reply delivered (送达).
    ReplyDelivered {
        /// When recorded.
        at: DateTime<Utc>,
        /// Which reply.
        reply: ReplyKind,
        /// Day of delivery.
        delivered_on: NaiveDate,
    },
    /// Review requested (art. 35).
    ReviewRequested {
        /// When.
        at: DateTime<Utc>,
        /// Reviewing unit.
        reviewing_unit: UnitId,
    },
    /// Review opinion issued.
    ReviewOpinionIssued {
        /// When.
        at: DateTime<Utc>,
        /// Outcome.
        outcome: ReviewOutcome,
    },
    /// Re-review requested (art. 36).
    ReReviewRequested {
        /// When.
        at: DateTime<Utc>,
        /// Re-reviewing unit.
        re_reviewing_unit: UnitId,
    },
    /// A hearing opened.
    HearingOpened {
        /// When.
        at: DateTime<Utc>,
        /// Organising unit.
        organiser: UnitId,
    },
    /// The hearing closed.
    HearingClosed {
        /// When.
        at: DateTime<Utc>,
    },
    /// Re-review opinion issued.
    ReReviewOpinionIssued {
        /// When.
        at: DateTime<Utc>,
        /// Outcome.
        outcome: ReviewOutcome,
    },
    /// Concluded after re-review (依法终结).
    Concluded {
        /// When.
        at: DateTime<Utc>,
    },
    /// Final: a petitioner's window lapsed.
    BecameFinal {
        /// When recorded.
        at: DateTime<Utc>,
        /// The window that lapsed.
        window: DeadlineKind,
        /// Its last day.
        lapsed_after: NaiveDate,
    },
    /// A supported claim implemented.
    ImplementationRecorded {
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for MatterEvent {
    const AGGREGATE: &'static str = "matter";

    fn name(&self) -> &'static str {
        match self {
            MatterEvent::Registered { .. } => "registered",
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

/// An agreement as the matter keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    /// Kind.
    pub kind: AgreementKind,
    /// Obligations by id, with whether each was met (`Some(true)`), breached (`Some(false)`) or is open.
    pub obligations: BTreeMap<String, (Obligation, Option<bool>)>,
}

/// The state of a petition matter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PetitionMatter {
    /// The matter (empty until registered).
    pub matter_id: Option<MatterId>,
    /// Stage as recorded (see [`PetitionMatter::stage_on`] for lapsed windows).
    pub stage: Stage,
    /// The registering petition office.
    pub office: Option<UnitId>,
    /// Title.
    pub title: String,
    /// Petitioners.
    pub petitioners: Vec<PersonRef>,
    /// Collective size.
    pub collective_size: u32,
    /// Territory.
    pub territory: Option<UnitId>,
    /// Receipt number.
    pub receipt_number: String,
    /// Digest of the query code.
    pub query_code_digest: String,
    /// Class as accepted (or as registered, before acceptance).
    pub class: Option<ClaimClass>,
    /// Route of an accepted claim.
    pub route: Option<ClaimRoute>,
    /// Responsible unit (属事).
    pub responsible_unit: Option<UnitId>,
    /// Territorial unit (属地).
    pub territorial_unit: Option<UnitId>,
    /// Reviewing unit.
    pub reviewing_unit: Option<UnitId>,
    /// Re-reviewing unit.
    pub re_reviewing_unit: Option<UnitId>,
    /// The accused unit of an accusation: never shown the petitioners.
    pub accused_unit: Option<UnitId>,
    /// First petition (初信初访).
    pub first_petition: bool,
    /// The root this matter is linked to.
    pub linked_to: Option<MatterId>,
    /// Legal clocks by kind.
    pub deadlines: BTreeMap<DeadlineKind, Deadline>,
    /// Whether the one extension was used.
    pub extended: bool,
    /// Outcome of the handling opinion.
    pub handling_outcome: Option<HandlingOutcome>,
    /// Outcome of the review.
    pub review_outcome: Option<ReviewOutcome>,
    /// Outcome of the re-review.
    pub re_review_outcome: Option<ReviewOutcome>,
    /// Delivered replies.
    pub replies: Vec<(ReplyKind, NaiveDate)>,
    /// The organiser of an open hearing.
    pub hearing: Option<UnitId>,
    /// Hearings held.
    pub hearings: u32,
    /// Agreements by id.
    pub agreements: BTreeMap<String, Agreement>,
    /// Whether a supported claim was implemented.
    pub implemented: bool,
    /// Whether the notice of receipt was sent.
    pub receipt_notice_sent: bool,
}

fn day(at: DateTime<Utc>) -> NaiveDate {
    legal_date(at)
}

impl PetitionMatter {
    /// The stage on `today`: a reply whose petitioner window has lapsed makes the matter final even before
    /// [`MatterAction::RecordFinality`] records it.
    pub fn stage_on(&self, rules: &Rules, today: NaiveDate) -> Stage {
        let window = match self.stage {
            Stage::Replied if self.route == Some(ClaimRoute::PetitionRoute) => {
                DeadlineKind::ReviewRequest
            }
            Stage::ReviewReplied => DeadlineKind::ReReviewRequest,
            stage => return stage,
        };
        match self.deadlines.get(&window) {
            Some(d) if today > d.due(&rules.calendar) => Stage::Final,
            _ => self.stage,
        }
    }

    /// The root of this matter's links.
    pub fn root(&self) -> Option<MatterId> {
        self.linked_to.clone().or_else(|| self.matter_id.clone())
    }

    /// What another matter's intake needs to know of this one, on `today`.
    pub fn summary(&self, rules: &Rules, today: NaiveDate) -> Option<MatterSummary> {
        Some(MatterSummary {
            matter_id: self.matter_id.clone()?,
            root: self.root()?,
            stage: self.stage_on(rules, today),
        })
    }

    /// Every unit that takes part in the matter at its current stage.
    pub fn parties(&self) -> BTreeSet<UnitId> {
        [
            &self.office,
            &self.responsible_unit,
            &self.territorial_unit,
            &self.reviewing_unit,
            &self.re_reviewing_unit,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    /// Whether `unit` may ever be shown the petitioners: never the accused unit of an accusation (art. 30).
    pub fn petitioners_visible_to(&self, unit: &UnitId) -> bool {
        self.accused_unit.as_ref() != Some(unit)
    }

    /// True when the matter is an accusation, whose petitioner fields are protected.
    pub fn is_accusation(&self) -> bool {
        self.class == Some(ClaimClass::Accusation)
    }

    fn refuse(&self, rule: &'static str, reason: impl Into<String>) -> DomainError {
        DomainError::refused(rule, self.stage, reason)
    }

    fn require_stage(
        &self,
        allowed: &[Stage],
        action: &str,
        rule: &'static str,
    ) -> Result<(), DomainError> {
        if allowed.contains(&self.stage) {
            Ok(())
        } else {
            Err(self.refuse(
                rule,
                format!("{action} is not allowed while the matter is {}", self.stage),
            ))
        }
    }

    /// A petitioner's window: refused after its last day, citing the rule and the date it closed.
    fn require_window(
        &self,
        kind: DeadlineKind,
        today: NaiveDate,
        rules: &Rules,
        action: &str,
    ) -> Result<(), DomainError> {
        let Some(window) = self.deadlines.get(&kind) else {
            return Err(self.refuse(
                kind.article(),
                format!("{action}: no {kind} window is open"),
            ));
        };
        let closed_on = window.due(&rules.calendar);
        if today > closed_on {
            return Err(DomainError::Refused {
                rule: kind.article(),
                stage: Stage::Final.to_string(),
                reason: format!(
                    "{action} on {today} is too late: the {kind} window closed on {closed_on}, the matter is final"
                ),
                deadline: Some(closed_on),
            });
        }
        Ok(())
    }

    fn decide_register(
        &self,
        at: DateTime<Utc>,
        office: &UnitId,
        r: &Registration,
    ) -> Result<Vec<MatterEvent>, DomainError> {
        if self.stage != Stage::Unregistered {
            return Err(self.refuse("art. 22", "the matter is already registered"));
        }
        id_field("matter_id", r.matter_id.as_str())?;
        text("title", &r.title, MAX_TITLE_CHARS)?;
        id_field("territory", r.territory.as_str())?;
        text("receipt_number", &r.receipt_number, 64)?;
        text("query_code_digest", &r.query_code_digest, 128)?;
        if r.petitioners.is_empty() {
            return Err(DomainError::invalid(
                "petitioners",
                "at least one petitioner",
            ));
        }
        for p in &r.petitioners {
            id_field("petitioners", p.as_str())?;
        }
        if (r.collective_size as usize) < r.petitioners.len() {
            return Err(DomainError::invalid(
                "collective_size",
                format!(
                    "{} is fewer than the {} petitioners",
                    r.collective_size,
                    r.petitioners.len()
                ),
            ));
        }
        if r.accused_unit.is_some() && r.claim_class != ClaimClass::Accusation {
            return Err(DomainError::invalid(
                "accused_unit",
                "only an accusation names an accused unit",
            ));
        }

        let registered =
            |first_petition: bool, linked_to: Option<MatterId>| MatterEvent::Registered {
                at,
                matter_id: r.matter_id.clone(),
                office: office.clone(),
                channel: r.channel,
                claim_class: r.claim_class,
                title: r.title.trim().to_owned(),
                petitioners: r.petitioners.clone(),
                collective_size: r.collective_size,
                territory: r.territory.clone(),
                receipt_number: r.receipt_number.clone(),
                query_code_digest: r.query_code_digest.clone(),
                accused_unit: r.accused_unit.clone(),
                first_petition,
                linked_to,
            };
        Ok(match &r.prior {
            PriorPetition::None => vec![registered(true, None)],
            PriorPetition::SameMatter {
                original,
                new_facts,
            } => {
                if original.matter_id == r.matter_id {
                    return Err(DomainError::invalid(
                        "prior",
                        "a matter cannot be its own original",
                    ));
                }
                let root = original.root.clone();
                if *new_facts {
                    // New facts or reasons: a new matter, linked to the old one's root.
                    vec![registered(false, Some(root))]
                } else if original.stage.bars_same_facts() {
                    vec![
                        registered(false, Some(root.clone())),
                        MatterEvent::NotAcceptedAgain {
                            at,
                            original: root.clone(),
                            notice: format!(
                                "Matter {root} was lawfully concluded and the petition raises the same facts and \
                                 reasons; under article 36 paragraph 3 of the Regulations on Letters and Visits \
                                 it is not accepted again."
                            ),
                        },
                    ]
                } else if !original.stage.is_closed() {
                    vec![
                        registered(false, Some(root.clone())),
                        MatterEvent::MergedIntoOriginal { at, original: root },
                    ]
                } else {
                    // Closed some other way (channelled, not accepted, …): the petitioner may come back, and
                    // the new matter is linked so the ledger shows the history.
                    vec![registered(false, Some(root))]
                }
            }
        })
    }
}

impl Aggregate for PetitionMatter {
    type Action = MatterAction;
    type Event = MatterEvent;

    fn decide(
        &self,
        command: &MatterCommand,
        rules: &Rules,
    ) -> Result<Vec<MatterEvent>, DomainError> {
        let at = command.at;
        let today = day(at);
        let unit = &command.unit;
        use MatterAction as A;
        let events = match &command.action {
            A::Register(registration) => return self.decide_register(at, unit, registration),
            A::Forward {
                to,
                territorial_unit,
            }
            | A::Assign {
                to,
                territorial_unit,
            } => {
                self.require_stage(&[Stage::Registered], "routing", "art. 22")?;
                DomainError::require_unit(
                    unit,
                    &self.office,
                    "route a matter it did not register",
                )?;
                id_field("to", to.as_str())?;
                if Some(to) == self.office.as_ref() {
                    return Err(DomainError::invalid(
                        "to",
                        "a matter is routed to another unit",
                    ));
                }
                let (to, territorial_unit) = (to.clone(), territorial_unit.clone());
                vec![if matches!(command.action, A::Forward { .. }) {
                    MatterEvent::Forwarded {
                        at,
                        to,
                        territorial_unit,
                    }
                } else {
                    MatterEvent::Assigned {
                        at,
                        to,
                        territorial_unit,
                    }
                }]
            }
            A::Divert {
                diversion,
                to,
                channel,
            } => {
                self.require_stage(&[Stage::Registered], "diversion", "art. 22")?;
                DomainError::require_unit(
                    unit,
                    &self.office,
                    "divert a matter it did not register",
                )?;
                text("channel", channel, MAX_REASON_CHARS)?;
                vec![MatterEvent::Diverted {
                    at,
                    diversion: *diversion,
                    to: to.clone(),
                    channel: channel.clone(),
                }]
            }
            A::Receive => {
                self.require_stage(&[Stage::Forwarded, Stage::Assigned], "receipt", "art. 23")?;
                DomainError::require_unit(
                    unit,
                    &self.responsible_unit,
                    "receive a matter not routed to it",
                )?;
                vec![MatterEvent::Received { at }]
            }
            A::SendReceiptNotice => {
                if self.receipt_notice_sent {
                    return Err(self.refuse("art. 23", "the notice of receipt was already sent"));
                }
                if matches!(
                    self.stage,
                    Stage::Registered | Stage::Forwarded | Stage::Assigned
                ) || self.stage.is_closed()
                {
                    return Err(self.refuse(
                        "art. 23",
                        format!("no notice of receipt while the matter is {}", self.stage),
                    ));
                }
                DomainError::require_unit(
                    unit,
                    &self.responsible_unit,
                    "send the notice of receipt",
                )?;
                vec![MatterEvent::ReceiptNoticeSent { at }]
            }
            A::ObjectToRouting { reason } => {
                self.require_stage(&[Stage::Received], "a routing objection", "art. 23 ¶3")?;
                DomainError::require_unit(
                    unit,
                    &self.responsible_unit,
                    "object to another unit's routing",
                )?;
                text("reason", reason, MAX_REASON_CHARS)?;
                if let Some(window) = self.deadlines.get(&DeadlineKind::RoutingObjection) {
                    let closed_on = window.due(&rules.calendar);
                    if today > closed_on {
                        return Err(DomainError::Refused {
                            rule: "art. 23 ¶3",
                            stage: self.stage.to_string(),
                            reason: format!(
                                "an objection on {today} is too late: the 5 working days from receipt ended on {closed_on}"
                            ),
                            deadline: Some(closed_on),
                        });
                    }
                }
                vec![MatterEvent::RoutingObjected {
                    at,
                    reason: reason.clone(),
                }]
            }
            A::DecideRoutingObjection { upheld } => {
                self.require_stage(
                    &[Stage::RoutingObjected],
                    "deciding an objection",
                    "art. 23 ¶3",
                )?;
                DomainError::require_unit(unit, &self.office, "decide a routing objection")?;
                vec![MatterEvent::RoutingObjectionDecided {
                    at,
                    upheld: *upheld,
                }]
            }
            A::Accept {
                class,
                route,
                channel,
                accused_unit,
            } => {
                self.require_stage(&[Stage::Received], "acceptance", "art. 28")?;
                DomainError::require_unit(
                    unit,
                    &self.responsible_unit,
                    "accept a matter not routed to it",
                )?;
                match (class, route) {
                    (ClaimClass::Claim, None) => {
                        return Err(DomainError::invalid(
                            "route",
                            "a claim is accepted with one of the six routes (art. 31)",
                        ));
                    }
                    (ClaimClass::Suggestion | ClaimClass::Accusation, Some(_)) => {
                        return Err(DomainError::invalid("route", "only a claim has a route"));
                    }
                    _ => {}
                }
                if *class == ClaimClass::Accusation
                    && accused_unit.is_none()
                    && self.accused_unit.is_none()
                {
                    return Err(DomainError::invalid(
                        "accused_unit",
                        "an accusation names the accused unit (art. 30)",
                    ));
                }
                if *class != ClaimClass::Accusation && accused_unit.is_some() {
                    return Err(DomainError::invalid(
                        "accused_unit",
                        "only an accusation names an accused unit",
                    ));
                }
                let mut events = vec![MatterEvent::Accepted {
                    at,
                    class: *class,
                    route: *route,
                    accused_unit: accused_unit.clone().or_else(|| self.accused_unit.clone()),
                }];
                match (class, route) {
                    (ClaimClass::Accusation, _) => {
                        events.push(MatterEvent::ReferredToDiscipline { at })
                    }
                    (ClaimClass::Claim, Some(r)) if r.is_channelled() => {
                        let Some(channel) = channel else {
                            return Err(DomainError::invalid(
                                "channel",
                                "routes 1–5 name the competent channel",
                            ));
                        };
                        text("channel", channel, MAX_REASON_CHARS)?;
                        events.push(MatterEvent::Channelled {
                            at,
                            route: *r,
                            channel: channel.clone(),
                        });
                    }
                    _ => {}
                }
                events
            }
            A::NotAccept {
                reason,
                competent_channel,
            } => {
                self.require_stage(&[Stage::Received], "non-acceptance", "art. 28")?;
                DomainError::require_unit(
                    unit,
                    &self.responsible_unit,
                    "decline a matter not routed to it",
                )?;
                text("reason", reason, MAX_REASON_CHARS)?;
                text("competent_channel", competent_channel, MAX_REASON_CHARS)?;
                vec![MatterEvent::NotAccepted {
                    at,
                    reason: reason.clone(),
                    competent_channel: competent_channel.clone(),
                }]
            }
            A::ExtendHandling {
                days,
                approver,
                reason,
            } => {
                self.require_stage(&[Stage::Handling], "an extension", "art. 34")?;
                DomainError::require_unit(
                    unit,
                    &self.responsible_unit,
                    "extend another unit's handling",
                )?;
                if self.route != Some(ClaimRoute::PetitionRoute) {
                    return Err(self.refuse(
                        "art. 34",
                        "only a claim on the petition route has a handling period",
                    ));
                }
                if self.extended {
                    return Err(self.refuse("art. 34", "handling may be extended once only"));
                }
                if *days == 0 || *days > MAX_EXTENSION_DAYS {
                    return Err(DomainError::invalid(
                        "days",
                        format!("1 to {MAX_EXTENSION_DAYS} days (art. 34)"),
                    ));
                }
                id_field("approver", approver.as_str())?;
                text("reason", reason, MAX_REASON_CHARS)?;
                if let Some(handling) = self.deadlines.get(&DeadlineKind::Handling) {
                    let due = handling.due(&rules.calendar);
                    if today > due {
                        return Err(DomainError::Refused {
                            rule: "art. 34",
                            stage: self.stage.to_string(),
                            reason: format!(
                                "an extension must be approved within the period, which ended on {due}"
                            ),
                            deadline: Some(due),
                        });
                    }
                }
                vec![MatterEvent::HandlingExtended {
                    at,
                    days: *days,
                    approver: approver.clone(),
                    reason: reason.clone(),
                }]
            }
            A::RecordAgreement {
                agreement_id,
                kind,
                obligations,
            } => {
                self.require_stage(
                    &[Stage::Handling, Stage::UnderReview, Stage::UnderReReview],
                    "an agreement",
                    "art. 33",
                )?;
                if !self.parties().contains(unit) {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "record an agreement on this matter",
                    });
                }
                id_field("agreement_id", agreement_id)?;
                if self.agreements.contains_key(agreement_id) {
                    return Err(DomainError::invalid("agreement_id", "already recorded"));
                }
                if obligations.is_empty() {
                    return Err(DomainError::invalid(
                        "obligations",
                        "an agreement records at least one obligation",
                    ));
                }
                let mut seen = BTreeSet::new();
                for o in obligations {
                    id_field("obligation_id", &o.obligation_id)?;
                    text("description", &o.description, MAX_REASON_CHARS)?;
                    if !seen.insert(&o.obligation_id) {
                        return Err(DomainError::invalid(
                            "obligation_id",
                            format!("{} appears twice", o.obligation_id),
                        ));
                    }
                }
                vec![MatterEvent::AgreementRecorded {
                    at,
                    agreement_id: agreement_id.clone(),
                    kind: *kind,
                    obligations: obligations.clone(),
                }]
            }
            A::RecordObligationMet {
                agreement_id,
                obligation_id,
            }
            | A::RecordObligationBreached {
                agreement_id,
                obligation_id,
            } => {
                if !self.parties().contains(unit) {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "record on this matter's agreements",
                    });
                }
                let Some(agreement) = self.agreements.get(agreement_id) else {
                    return Err(DomainError::invalid(
                        "agreement_id",
                        format!("no agreement {agreement_id}"),
                    ));
                };
                let Some((obligation, state)) = agreement.obligations.get(obligation_id) else {
                    return Err(DomainError::invalid(
                        "obligation_id",
                        format!("no obligation {obligation_id}"),
                    ));
                };
                if state.is_some() {
                    return Err(self.refuse(
                        "art. 33",
                        format!("obligation {obligation_id} is already settled"),
                    ));
                }
                let (agreement_id, obligation_id) = (agreement_id.clone(), obligation_id.clone());
                vec![if matches!(command.action, A::RecordObligationMet { .. }) {
                    MatterEvent::ObligationMet {
                        at,
                        agreement_id,
                        obligation_id,
                    }
                } else {
                    MatterEvent::ObligationBreached {
                        at,
                        agreement_id,
                        obligation_id,
                        supervision_due_for: match &obligation.obligor {
                            Obligor::Unit(u) => Some(u.clone()),
                            Obligor::Petitioner(_) => None,
                        },
                    }
                }]
            }
            A::IssueHandlingOpinion { outcome } => {
                self.require_stage(&[Stage::Handling], "a handling opinion", "art. 32")?;
                DomainError::require_unit(
                    unit,
                    &self.responsible_unit,
                    "issue another unit's opinion",
                )?;
                if self.route != Some(ClaimRoute::PetitionRoute) {
                    return Err(self.refuse(
                        "art. 32",
                        "a handling opinion answers a claim on the petition route",
                    ));
                }
                if self.hearing.is_some() {
                    return Err(self.refuse("art. 32", "the hearing is still open"));
                }
                vec![MatterEvent::HandlingOpinionIssued {
                    at,
                    outcome: *outcome,
                }]
            }
            A::DeliverReply { delivered_on } => {
                let (reply, by) = match self.stage {
                    Stage::OpinionIssued => (ReplyKind::Handling, &self.responsible_unit),
                    Stage::Handling if self.class == Some(ClaimClass::Suggestion) => {
                        (ReplyKind::Handling, &self.responsible_unit)
                    }
                    Stage::ReviewOpinionIssued => (ReplyKind::Review, &self.reviewing_unit),
                    Stage::ReReviewOpinionIssued => (ReplyKind::ReReview, &self.re_reviewing_unit),
                    _ => {
                        return Err(self.refuse(
                            "art. 32",
                            format!(
                                "no written reply is pending while the matter is {}",
                                self.stage
                            ),
                        ));
                    }
                };
                DomainError::require_unit(unit, by, "deliver another unit's reply")?;
                if *delivered_on > today {
                    return Err(DomainError::invalid(
                        "delivered_on",
                        format!("{delivered_on} is after today, {today}"),
                    ));
                }
                let mut events = vec![MatterEvent::ReplyDelivered {
                    at,
                    reply,
                    delivered_on: *delivered_on,
                }];
                if reply == ReplyKind::ReReview {
                    events.push(MatterEvent::Concluded { at });
                }
                events
            }
            A::RequestReview { reviewing_unit } => {
                if self.stage == Stage::Replied && self.route == Some(ClaimRoute::PetitionRoute) {
                    self.require_window(
                        DeadlineKind::ReviewRequest,
                        today,
                        rules,
                        "a review request",
                    )?;
                } else {
                    self.require_stage(&[], "a review request", "art. 35")?;
                }
                id_field("reviewing_unit", reviewing_unit.as_str())?;
                if Some(reviewing_unit) == self.responsible_unit.as_ref() {
                    return Err(DomainError::invalid(
                        "reviewing_unit",
                        "review is by the unit one level up, not the responsible unit",
                    ));
                }
                if unit != reviewing_unit && Some(unit) != self.office.as_ref() {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "record a review request",
                    });
                }
                vec![MatterEvent::ReviewRequested {
                    at,
                    reviewing_unit: reviewing_unit.clone(),
                }]
            }
            A::IssueReviewOpinion { outcome } => {
                self.require_stage(&[Stage::UnderReview], "a review opinion", "art. 35")?;
                DomainError::require_unit(
                    unit,
                    &self.reviewing_unit,
                    "issue another unit's review opinion",
                )?;
                if self.hearing.is_some() {
                    return Err(self.refuse("art. 35", "the hearing is still open"));
                }
                vec![MatterEvent::ReviewOpinionIssued {
                    at,
                    outcome: *outcome,
                }]
            }
            A::RequestReReview { re_reviewing_unit } => {
                if self.stage == Stage::ReviewReplied {
                    self.require_window(
                        DeadlineKind::ReReviewRequest,
                        today,
                        rules,
                        "a re-review request",
                    )?;
                } else {
                    self.require_stage(&[], "a re-review request", "art. 36")?;
                }
                id_field("re_reviewing_unit", re_reviewing_unit.as_str())?;
                if Some(re_reviewing_unit) == self.reviewing_unit.as_ref()
                    || Some(re_reviewing_unit) == self.responsible_unit.as_ref()
                {
                    return Err(DomainError::invalid(
                        "re_reviewing_unit",
                        "re-review is by the next level up",
                    ));
                }
                if unit != re_reviewing_unit && Some(unit) != self.office.as_ref() {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "record a re-review request",
                    });
                }
                vec![MatterEvent::ReReviewRequested {
                    at,
                    re_reviewing_unit: re_reviewing_unit.clone(),
                }]
            }
            A::OpenHearing => {
                let organiser = match self.stage {
                    Stage::Handling => &self.responsible_unit,
                    Stage::UnderReview => &self.reviewing_unit,
                    Stage::UnderReReview => &self.re_reviewing_unit,
                    _ => {
                        return Err(self.refuse(
                            "art. 36 ¶2",
                            format!("no hearing while the matter is {}", self.stage),
                        ));
                    }
                };
                DomainError::require_unit(unit, organiser, "organise a hearing on this matter")?;
                if self.hearing.is_some() {
                    return Err(self.refuse("art. 36 ¶2", "a hearing is already open"));
                }
                vec![MatterEvent::HearingOpened {
                    at,
                    organiser: unit.clone(),
                }]
            }
            A::CloseHearing => {
                if self.hearing.is_none() {
                    return Err(self.refuse("art. 36 ¶2", "no hearing is open"));
                }
                DomainError::require_unit(unit, &self.hearing, "close another unit's hearing")?;
                vec![MatterEvent::HearingClosed { at }]
            }
            A::IssueReReviewOpinion { outcome } => {
                self.require_stage(&[Stage::UnderReReview], "a re-review opinion", "art. 36")?;
                DomainError::require_unit(
                    unit,
                    &self.re_reviewing_unit,
                    "issue another unit's re-review opinion",
                )?;
                if self.hearing.is_some() {
                    return Err(self.refuse("art. 36 ¶2", "the hearing is still open"));
                }
                vec![MatterEvent::ReReviewOpinionIssued {
                    at,
                    outcome: *outcome,
                }]
            }
            A::RecordFinality => {
                let window = match self.stage {
                    Stage::Replied if self.route == Some(ClaimRoute::PetitionRoute) => {
                        DeadlineKind::ReviewRequest
                    }
                    Stage::ReviewReplied => DeadlineKind::ReReviewRequest,
                    _ => {
                        return Err(self.refuse(
                            "art. 35",
                            format!(
                                "no petitioner window runs while the matter is {}",
                                self.stage
                            ),
                        ));
                    }
                };
                if !self.parties().contains(unit) {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "record finality of this matter",
                    });
                }
                let closes = self.deadlines.get(&window).map(|d| d.due(&rules.calendar));
                match closes {
                    Some(lapsed_after) if today > lapsed_after => vec![MatterEvent::BecameFinal {
                        at,
                        window,
                        lapsed_after,
                    }],
                    Some(open_until) => {
                        return Err(DomainError::Refused {
                            rule: window.article(),
                            stage: self.stage.to_string(),
                            reason: format!("the {window} window is open until {open_until}"),
                            deadline: Some(open_until),
                        });
                    }
                    None => {
                        return Err(self
                            .refuse(window.article(), format!("no {window} window was started")));
                    }
                }
            }
            A::RecordImplementation => {
                DomainError::require_unit(
                    unit,
                    &self.responsible_unit,
                    "record another unit's implementation",
                )?;
                let supported = self.handling_outcome == Some(HandlingOutcome::Supported)
                    && !matches!(
                        self.review_outcome,
                        Some(ReviewOutcome::Changed | ReviewOutcome::Revoked)
                    );
                if !supported || self.replies.is_empty() {
                    return Err(self.refuse(
                        "art. 32",
                        "only a supported claim whose opinion was delivered is implemented",
                    ));
                }
                if self.implemented {
                    return Err(self.refuse("art. 32", "the implementation is already recorded"));
                }
                vec![MatterEvent::ImplementationRecorded { at }]
            }
        };
        Ok(events)
    }

    fn evolve(mut self, event: &MatterEvent) -> Self {
        use MatterEvent as E;
        let start = |s: &mut Self, kind: DeadlineKind, on: NaiveDate| {
            if let Some(d) = Deadline::statutory(kind, on) {
                s.deadlines.insert(kind, d);
            }
        };
        let meet = |s: &mut Self, kind: DeadlineKind, on: NaiveDate| {
            if let Some(d) = s.deadlines.get_mut(&kind) {
                d.met_on.get_or_insert(on);
            }
        };
        match event {
            E::Registered {
                at,
                matter_id,
                office,
                claim_class,
                title,
                petitioners,
                collective_size,
                territory,
                receipt_number,
                query_code_digest,
                accused_unit,
                first_petition,
                linked_to,
                ..
            } => {
                self.matter_id = Some(matter_id.clone());
                self.stage = Stage::Registered;
                self.office = Some(office.clone());
                self.class = Some(*claim_class);
                self.title = title.clone();
                self.petitioners = petitioners.clone();
                self.collective_size = *collective_size;
                self.territory = Some(territory.clone());
                self.receipt_number = receipt_number.clone();
                self.query_code_digest = query_code_digest.clone();
                self.accused_unit = accused_unit.clone();
                self.first_petition = *first_petition;
                self.linked_to = linked_to.clone();
                start(&mut self, DeadlineKind::ForwardOrAssign, day(*at));
            }
            E::MergedIntoOriginal { at, .. } => {
                self.stage = Stage::Merged;
                meet(&mut self, DeadlineKind::ForwardOrAssign, day(*at));
            }
            E::NotAcceptedAgain { at, .. } => {
                self.stage = Stage::NotAcceptedAgain;
                meet(&mut self, DeadlineKind::ForwardOrAssign, day(*at));
            }
            E::Forwarded {
                at,
                to,
                territorial_unit,
            }
            | E::Assigned {
                at,
                to,
                territorial_unit,
            } => {
                self.stage = if matches!(event, E::Forwarded { .. }) {
                    Stage::Forwarded
                } else {
                    Stage::Assigned
                };
                self.responsible_unit = Some(to.clone());
                self.territorial_unit = territorial_unit.clone();
                meet(&mut self, DeadlineKind::ForwardOrAssign, day(*at));
            }
            E::Diverted { at, to, .. } => {
                self.stage = Stage::Diverted;
                self.responsible_unit = Some(to.clone());
                meet(&mut self, DeadlineKind::ForwardOrAssign, day(*at));
            }
            E::Received { at } => {
                self.stage = Stage::Received;
                start(&mut self, DeadlineKind::ReceiptNotice, day(*at));
                start(&mut self, DeadlineKind::RoutingObjection, day(*at));
            }
            E::ReceiptNoticeSent { at } => {
                self.receipt_notice_sent = true;
                meet(&mut self, DeadlineKind::ReceiptNotice, day(*at));
            }
            E::RoutingObjected { at, .. } => {
                self.stage = Stage::RoutingObjected;
                meet(&mut self, DeadlineKind::RoutingObjection, day(*at));
            }
            E::RoutingObjectionDecided { at, upheld } => {
                if *upheld {
                    // Back to the petition office, which routes anew within a fresh art. 22 period.
                    self.stage = Stage::Registered;
                    self.responsible_unit = None;
                    self.territorial_unit = None;
                    self.receipt_notice_sent = false;
                    self.deadlines.remove(&DeadlineKind::ReceiptNotice);
                    self.deadlines.remove(&DeadlineKind::RoutingObjection);
                    start(&mut self, DeadlineKind::ForwardOrAssign, day(*at));
                } else {
                    self.stage = Stage::Received;
                }
            }
            E::Accepted {
                at,
                class,
                route,
                accused_unit,
            } => {
                self.class = Some(*class);
                self.route = *route;
                self.accused_unit = accused_unit.clone();
                self.stage = Stage::Handling;
                meet(&mut self, DeadlineKind::RoutingObjection, day(*at));
                if *route == Some(ClaimRoute::PetitionRoute) {
                    start(&mut self, DeadlineKind::Handling, day(*at));
                }
            }
            E::Channelled { .. } => self.stage = Stage::Channelled,
            E::ReferredToDiscipline { .. } => self.stage = Stage::ReferredToDiscipline,
            E::NotAccepted { at, .. } => {
                self.stage = Stage::NotAccepted;
                meet(&mut self, DeadlineKind::RoutingObjection, day(*at));
            }
            E::HandlingExtended { days, .. } => {
                self.extended = true;
                if let Some(d) = self.deadlines.get_mut(&DeadlineKind::Handling) {
                    d.extended_by += days;
                }
            }
            E::AgreementRecorded {
                agreement_id,
                kind,
                obligations,
                ..
            } => {
                let obligations = obligations
                    .iter()
                    .map(|o| (o.obligation_id.clone(), (o.clone(), None)))
                    .collect();
                self.agreements.insert(
                    agreement_id.clone(),
                    Agreement {
                        kind: *kind,
                        obligations,
                    },
                );
            }
            E::ObligationMet {
                agreement_id,
                obligation_id,
                ..
            }
            | E::ObligationBreached {
                agreement_id,
                obligation_id,
                ..
            } => {
                let met = matches!(event, E::ObligationMet { .. });
                if let Some((_, state)) = self
                    .agreements
                    .get_mut(agreement_id)
                    .and_then(|a| a.obligations.get_mut(obligation_id))
                {
                    *state = Some(met);
                }
            }
            E::HandlingOpinionIssued { at, outcome } => {
                self.stage = Stage::OpinionIssued;
                self.handling_outcome = Some(*outcome);
                meet(&mut self, DeadlineKind::Handling, day(*at));
            }
            E::ReplyDelivered {
                reply,
                delivered_on,
                ..
            } => {
                self.replies.push((*reply, *delivered_on));
                match reply {
                    ReplyKind::Handling if self.class == Some(ClaimClass::Suggestion) => {
                        self.stage = Stage::Answered
                    }
                    ReplyKind::Handling => {
                        self.stage = Stage::Replied;
                        start(&mut self, DeadlineKind::ReviewRequest, *delivered_on);
                    }
                    ReplyKind::Review => {
                        self.stage = Stage::ReviewReplied;
                        start(&mut self, DeadlineKind::ReReviewRequest, *delivered_on);
                    }
                    ReplyKind::ReReview => {}
                }
            }
            E::ReviewRequested { at, reviewing_unit } => {
                self.stage = Stage::UnderReview;
                self.reviewing_unit = Some(reviewing_unit.clone());
                meet(&mut self, DeadlineKind::ReviewRequest, day(*at));
                start(&mut self, DeadlineKind::ReviewOpinion, day(*at));
            }
            E::ReviewOpinionIssued { at, outcome } => {
                self.stage = Stage::ReviewOpinionIssued;
                self.review_outcome = Some(*outcome);
                meet(&mut self, DeadlineKind::ReviewOpinion, day(*at));
            }
            E::ReReviewRequested {
                at,
                re_reviewing_unit,
            } => {
                self.stage = Stage::UnderReReview;
                self.re_reviewing_unit = Some(re_reviewing_unit.clone());
                meet(&mut self, DeadlineKind::ReReviewRequest, day(*at));
                start(&mut self, DeadlineKind::ReReviewOpinion, day(*at));
            }
            E::HearingOpened { at, organiser } => {
                self.hearing = Some(organiser.clone());
                self.hearings += 1;
                if self.stage == Stage::UnderReReview
                    && let Some(d) = self.deadlines.get_mut(&DeadlineKind::ReReviewOpinion)
                {
                    d.pause(day(*at));
                }
            }
            E::HearingClosed { at } => {
                self.hearing = None;
                if let Some(d) = self.deadlines.get_mut(&DeadlineKind::ReReviewOpinion) {
                    d.resume(day(*at));
                }
            }
            E::ReReviewOpinionIssued { at, outcome } => {
                self.stage = Stage::ReReviewOpinionIssued;
                self.re_review_outcome = Some(*outcome);
                meet(&mut self, DeadlineKind::ReReviewOpinion, day(*at));
            }
            E::Concluded { .. } => self.stage = Stage::Concluded,
            E::BecameFinal { .. } => self.stage = Stage::Final,
            E::ImplementationRecorded { .. } => self.implemented = true,
        }
        self
    }
}

#[cfg(test)]
mod tests;
