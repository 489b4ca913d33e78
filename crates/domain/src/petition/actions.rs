//! What can be asked of a petition matter: one action per step of the procedure. Each step's rule is in
//! the file named for its stage (`intake`, `routing`, `acceptance`, `handling`, …).

use chrono::NaiveDate;

use super::{
    AgreementKind, Channel, ClaimClass, ClaimRoute, Diversion, HandlingOutcome, IntakeFindings,
    MatterSummary, Obligation, ReviewOutcome, SealedPersonalData,
};
use crate::aggregate::Command;
use crate::ids::{MatterId, PersonRef, UnitId};

/// A command to a petition matter.
pub type MatterCommand = Command<MatterAction>;

/// The acts on a petition matter.
// A command is built once per request and moved into one decision, never kept in bulk: the size of its
// largest variant (a registration with what intake found) costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum MatterAction {
    /// Register a petition (登记), with what intake found of the petitioners' earlier matters.
    Register(Registration),
    /// The clerk confirms that a registration flagged as a possible repeat is one: judged against the
    /// original as it stands now, as at intake (art. 36 ¶3).
    ConfirmRepeat {
        /// The flagged original, as it stands.
        original: MatterSummary,
        /// True when the petitioner brings new facts or reasons.
        new_facts: bool,
    },
    /// The clerk finds that a registration flagged as a possible repeat is a claim of its own.
    DismissRepeat {
        /// Why it is another claim.
        reason: String,
    },
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
    /// The category of the problem (问题类别, e.g. 劳动保障), when intake filed one.
    pub category: Option<String>,
    /// The unit the petition is about (被反映单位), when intake named one.
    pub respondent: Option<UnitId>,
    /// Each petitioner's personal data, sealed by the service: recorded in the registration's own
    /// append, so a refused registration leaves none behind.
    pub personal_data: Vec<SealedPersonalData>,
    /// What intake found of the petitioners' earlier matters; the domain judges what they mean.
    pub prior: IntakeFindings,
}
