//! The petition matter (信访事项) under the 2022 Regulations on Letters and Visits: registration, routing,
//! acceptance by class and route, handling with its statutory clocks, review (复查), re-review (复核),
//! hearings, agreements, and lawful conclusion (依法终结).
//!
//! Review, re-review and hearings are kept inside the matter rather than in aggregates of their own: each
//! changes what the matter itself may do next (whether it can be accepted again, which clock runs), so one
//! consistency boundary is the simpler correct model. The units doing them are recorded per step.
//!
//! One file per stage of the procedure, each holding that stage's steps (decide) and what their events do
//! to the matter (evolve), beside the rule they enforce:
//! - `intake`: registration, and what intake found about earlier petitions (art. 22, art. 36 ¶3);
//! - `routing`: forwarding, assignment, diversion, receipt, the notice and objections (arts. 22–23);
//! - `acceptance`: acceptance by legal class and route, or not (arts. 28–31);
//! - `handling`: the handling period, its extension, the opinion and its implementation (arts. 32, 34);
//! - `agreements`: mediation and settlement agreements and their obligations (art. 33);
//! - `delivery`: delivering a written reply, which starts the petitioner's next window;
//! - `review`: review, re-review and hearings (arts. 35–36);
//! - `conclusion`: finality after a lapsed window, and conclusion after re-review (art. 36 ¶3).
//!
//! `actions` and `events` list the steps and what they record; `state` is the matter and the checks
//! every step shares; `stage` where a matter stands.
//!
//! Where the Regulations are silent, choices are said in the doc comment of the step concerned.

mod acceptance;
mod actions;
mod agreements;
mod conclusion;
mod delivery;
mod events;
mod handling;
mod intake;
mod review;
mod routing;
mod stage;
mod state;

use chrono::{DateTime, NaiveDate, Utc};

pub use acceptance::{ClaimClass, ClaimRoute};
pub use actions::{MatterAction, MatterCommand, Registration};
pub use agreements::{Agreement, AgreementKind, Obligation, Obligor};
pub use delivery::ReplyKind;
pub use events::MatterEvent;
pub use handling::{HandlingOutcome, MAX_EXTENSION_DAYS};
pub use intake::{
    COLLECTIVE_THRESHOLD, Channel, IntakeFindings, IntakeOutcome, MAX_CATEGORY_CHARS,
    MAX_TITLE_CHARS, MatterSummary, PersonalField, PriorPetition, SealedPersonalData,
    not_accepted_again_notice,
};
pub use review::ReviewOutcome;
pub use routing::Diversion;
pub use stage::Stage;
pub use state::PetitionMatter;

use crate::aggregate::{Aggregate, Rules};
use crate::clock::legal_date;
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::UnitId;

/// Longest free-text reason or channel name, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

/// What a step's decision reads besides its own arguments: who acts, when, and under which calendar.
#[derive(Clone, Copy)]
struct Step<'a> {
    /// The instant of the command.
    at: DateTime<Utc>,
    /// Its legal (Beijing) date, from which periods count.
    today: NaiveDate,
    /// The acting unit, from the caller's token.
    unit: &'a UnitId,
    /// The calendar.
    rules: &'a Rules,
}

impl Step<'_> {
    /// Checks a unit the command names in `field` against the directory on the step's date.
    fn unit(
        &self,
        field: &'static str,
        unit: &UnitId,
        requirement: UnitRequirement,
    ) -> Result<(), DomainError> {
        self.rules
            .directory
            .require(field, unit, self.today, requirement)
            .map(|_| ())
    }
}

/// A step's outcome: the events to record, or the refusal.
type Decision = Result<Vec<MatterEvent>, DomainError>;

impl Aggregate for PetitionMatter {
    type Action = MatterAction;
    type Event = MatterEvent;

    fn decide(&self, command: &MatterCommand, rules: &Rules) -> Decision {
        let step = Step {
            at: command.at,
            today: legal_date(command.at),
            unit: &command.unit,
            rules,
        };
        use MatterAction as A;
        match &command.action {
            A::Register(registration) => self.register(step, registration),
            A::ConfirmRepeat {
                original,
                new_facts,
            } => self.confirm_repeat(step, original, *new_facts),
            A::DismissRepeat { reason } => self.dismiss_repeat(step, reason),
            A::Forward {
                to,
                territorial_unit,
            } => self.route(step, false, to, territorial_unit),
            A::Assign {
                to,
                territorial_unit,
            } => self.route(step, true, to, territorial_unit),
            A::Divert {
                diversion,
                to,
                channel,
            } => self.divert(step, *diversion, to, channel),
            A::Receive => self.receive(step),
            A::SendReceiptNotice => self.send_receipt_notice(step),
            A::ObjectToRouting { reason } => self.object_to_routing(step, reason),
            A::DecideRoutingObjection { upheld } => self.decide_routing_objection(step, *upheld),
            A::Accept {
                class,
                route,
                channel,
                accused_unit,
            } => self.accept(
                step,
                *class,
                *route,
                channel.as_ref(),
                accused_unit.as_ref(),
            ),
            A::NotAccept {
                reason,
                competent_channel,
            } => self.not_accept(step, reason, competent_channel),
            A::ExtendHandling {
                days,
                approver,
                reason,
            } => self.extend_handling(step, *days, approver, reason),
            A::RecordAgreement {
                agreement_id,
                kind,
                obligations,
            } => self.record_agreement(step, agreement_id, *kind, obligations),
            A::RecordObligationMet {
                agreement_id,
                obligation_id,
            } => self.settle_obligation(step, agreement_id, obligation_id, true),
            A::RecordObligationBreached {
                agreement_id,
                obligation_id,
            } => self.settle_obligation(step, agreement_id, obligation_id, false),
            A::IssueHandlingOpinion { outcome } => self.issue_handling_opinion(step, *outcome),
            A::DeliverReply { delivered_on } => self.deliver_reply(step, *delivered_on),
            A::RequestReview { reviewing_unit } => self.request_review(step, reviewing_unit),
            A::IssueReviewOpinion { outcome } => self.issue_review_opinion(step, *outcome),
            A::RequestReReview { re_reviewing_unit } => {
                self.request_re_review(step, re_reviewing_unit)
            }
            A::OpenHearing => self.open_hearing(step),
            A::CloseHearing => self.close_hearing(step),
            A::IssueReReviewOpinion { outcome } => self.issue_re_review_opinion(step, *outcome),
            A::RecordFinality => self.record_finality(step),
            A::RecordImplementation => self.record_implementation(step),
        }
    }

    fn evolve(mut self, event: &MatterEvent) -> Self {
        use MatterEvent as E;
        match event {
            E::Registered { .. } => self.registered(event),
            // Sealed data changes nothing of the procedure.
            E::PersonalDataRecorded { .. } => {}
            E::PossibleRepeatFlagged { of, .. } => self.possible_repeat_of = Some(of.clone()),
            E::RepeatConfirmed { original, .. } => self.repeat_confirmed(original),
            E::RepeatDismissed { .. } => self.possible_repeat_of = None,
            E::MergedIntoOriginal { at, .. } => self.closed_at_intake(Stage::Merged, *at),
            E::NotAcceptedAgain { at, notice, .. } => {
                self.notice = Some(notice.clone());
                self.closed_at_intake(Stage::NotAcceptedAgain, *at)
            }
            E::Forwarded {
                at,
                to,
                territorial_unit,
            } => self.routed(Stage::Forwarded, *at, to, territorial_unit),
            E::Assigned {
                at,
                to,
                territorial_unit,
            } => self.routed(Stage::Assigned, *at, to, territorial_unit),
            E::Diverted { at, to, .. } => self.diverted(*at, to),
            E::Received { at } => self.received(*at),
            E::ReceiptNoticeSent { at } => self.receipt_notice_sent(*at),
            E::RoutingObjected { at, .. } => self.routing_objected(*at),
            E::RoutingObjectionDecided { at, upheld } => {
                self.routing_objection_decided(*at, *upheld)
            }
            E::Accepted {
                at,
                class,
                route,
                accused_unit,
            } => self.accepted(*at, *class, *route, accused_unit),
            E::Channelled { .. } => self.stage = Stage::Channelled,
            E::ReferredToDiscipline { .. } => self.stage = Stage::ReferredToDiscipline,
            E::NotAccepted { at, .. } => self.not_accepted(*at),
            E::HandlingExtended { days, .. } => self.handling_extended(*days),
            E::AgreementRecorded {
                agreement_id,
                kind,
                obligations,
                ..
            } => self.agreement_recorded(agreement_id, *kind, obligations),
            E::ObligationMet {
                agreement_id,
                obligation_id,
                ..
            } => self.obligation_settled(agreement_id, obligation_id, true),
            E::ObligationBreached {
                agreement_id,
                obligation_id,
                ..
            } => self.obligation_settled(agreement_id, obligation_id, false),
            E::HandlingOpinionIssued { at, outcome } => self.handling_opinion_issued(*at, *outcome),
            E::ReplyDelivered {
                reply,
                delivered_on,
                ..
            } => self.reply_delivered(*reply, *delivered_on),
            E::ReviewRequested { at, reviewing_unit } => self.review_requested(*at, reviewing_unit),
            E::ReviewOpinionIssued { at, outcome } => self.review_opinion_issued(*at, *outcome),
            E::ReReviewRequested {
                at,
                re_reviewing_unit,
            } => self.re_review_requested(*at, re_reviewing_unit),
            E::HearingOpened { at, organiser } => self.hearing_opened(*at, organiser),
            E::HearingClosed { at } => self.hearing_closed(*at),
            E::ReReviewOpinionIssued { at, outcome } => {
                self.re_review_opinion_issued(*at, *outcome)
            }
            E::Concluded { at } => self.concluded(*at),
            E::BecameFinal { lapsed_after, .. } => self.became_final(*lapsed_after),
            E::ImplementationRecorded { .. } => self.implemented = true,
        }
        self
    }
}

#[cfg(test)]
mod tests;
