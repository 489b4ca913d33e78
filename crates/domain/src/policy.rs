//! Who takes which step: the roles that may ask each step of each aggregate, in one place for the three
//! services. The first role of a step is the one recorded with its events when the caller has several.
//! The acting unit is checked by the aggregate itself (the responsible unit handles, the unit one level
//! up reviews); this says only which kind of staff may ask.

use crate::agency::Agency;
use crate::dispute::DisputeAction;
use crate::joint::JointAction;
use crate::petition::MatterAction;
use crate::role::Role;
use crate::supervision::OrderAction;

const CLERK: &[Role] = &[Role::IntakeClerk];
const HANDLER: &[Role] = &[Role::Handler];
const REVIEWER: &[Role] = &[Role::Reviewer];
const HANDLER_OR_REVIEWER: &[Role] = &[Role::Handler, Role::Reviewer];
const CLERK_OR_REVIEWER: &[Role] = &[Role::IntakeClerk, Role::Reviewer];
const CLERK_OR_HANDLER: &[Role] = &[Role::IntakeClerk, Role::Handler];
const COORDINATOR: &[Role] = &[Role::Coordinator];
const HANDLER_OR_COORDINATOR: &[Role] = &[Role::Handler, Role::Coordinator];
const JOINT_MEMBER: &[Role] = &[Role::Handler, Role::Coordinator, Role::PoliceOfficer];
const POLICE: &[Role] = &[Role::PoliceOfficer];
const SUPERVISOR: &[Role] = &[Role::Supervisor];
const PII_READER: &[Role] = &[Role::PiiReader];
const AUDITOR: &[Role] = &[Role::Auditor];
const EVENT_READER: &[Role] = &[Role::Integrator, Role::Coordinator, Role::Auditor];
/// The unit staff, the committee, the joint meeting office and auditors: whoever works a case reads the
/// ledger (a unit its own share). Not an agency's system reading its log, an importer, nor a personal-data
/// reader by that role alone.
const LEDGER_READER: &[Role] = &[
    Role::Viewer,
    Role::IntakeClerk,
    Role::Handler,
    Role::Reviewer,
    Role::Supervisor,
    Role::Coordinator,
    Role::PoliceOfficer,
    Role::Auditor,
];
/// No role: the step is not taken through this agency's service.
const NOBODY: &[Role] = &[];

/// A step a caller asks of a service.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// Register a petition (登记).
    RegisterPetition,
    /// A step on a petition matter.
    Matter(&'a MatterAction),
    /// Report a dispute, through `Agency`'s service (screening at the committee, policing at public
    /// security).
    ReportDispute(Agency),
    /// A step on a dispute, through `Agency`'s service.
    Dispute(Agency, &'a DisputeAction),
    /// Open a joint handling (三同步).
    OpenJointHandling,
    /// A step on a joint handling.
    JointHandling(&'a JointAction),
    /// A police station's step in a joint handling.
    PoliceParticipation,
    /// Issue a supervision order (督办函).
    IssueSupervisionOrder,
    /// A step on a supervision order.
    SupervisionOrder(&'a OrderAction),
    /// Link items that are one matter.
    LinkItems,
    /// Record what the deadline watch saw: a threshold passed, a proposal made.
    RecordDeadlineWatch,
    /// Issue or dismiss a supervision proposal (督办建议).
    DecideSupervisionProposal,
    /// Import records of a district's existing ledger with their real dates.
    ImportRecords,
    /// Read a person's sealed data (always audited).
    ReadPersonalData,
    /// Erase a person (crypto-shredding).
    ErasePerson,
    /// Read the audit log of personal-data reads.
    ReadAuditLog,
    /// Read an agency's event feed.
    ReadEvents,
    /// Read what is held of a person and who read it (PIPL arts. 44–45).
    ReadAccessReport,
    /// Read the shared ledger: list, open and watch entries, read its statistics.
    ReadLedger,
    /// Export a list or the statistics as a spreadsheet (recorded).
    ExportLedger,
}

/// The roles that may take `step`; empty when no role may take it through that service.
pub fn roles(step: Step<'_>) -> &'static [Role] {
    use MatterAction as M;
    match step {
        Step::RegisterPetition => CLERK,
        Step::Matter(action) => match action {
            M::Register(_)
            | M::ConfirmRepeat { .. }
            | M::DismissRepeat { .. }
            | M::Forward { .. }
            | M::Assign { .. }
            | M::Divert { .. }
            | M::DecideRoutingObjection { .. } => CLERK,
            M::Receive
            | M::SendReceiptNotice
            | M::ObjectToRouting { .. }
            | M::Accept { .. }
            | M::NotAccept { .. }
            | M::ExtendHandling { .. }
            | M::IssueHandlingOpinion { .. }
            | M::RecordImplementation => HANDLER,
            M::DeliverReply { .. }
            | M::OpenHearing
            | M::CloseHearing
            | M::RecordAgreement { .. }
            | M::RecordObligationMet { .. }
            | M::RecordObligationBreached { .. } => HANDLER_OR_REVIEWER,
            M::RequestReview { .. } | M::RequestReReview { .. } => CLERK_OR_REVIEWER,
            M::IssueReviewOpinion { .. } | M::IssueReReviewOpinion { .. } => REVIEWER,
            M::RecordFinality => CLERK_OR_HANDLER,
        },
        Step::ReportDispute(Agency::PoliticalLegal) => &[Role::Coordinator, Role::Handler],
        Step::ReportDispute(Agency::PublicSecurity) => POLICE,
        Step::Dispute(Agency::PoliticalLegal, action) => match action {
            DisputeAction::ReportResolution { .. } | DisputeAction::RecordMediation { .. } => {
                HANDLER_OR_COORDINATOR
            }
            _ => COORDINATOR,
        },
        // Assessment, warning, assignment and verification are the committee's, in its own service.
        Step::Dispute(Agency::PublicSecurity, action) => match action {
            DisputeAction::RecordMediation { .. }
            | DisputeAction::Close { .. }
            | DisputeAction::ReportResolution { .. } => POLICE,
            _ => NOBODY,
        },
        Step::ReportDispute(Agency::Petition) | Step::Dispute(Agency::Petition, _) => NOBODY,
        Step::OpenJointHandling | Step::LinkItems => COORDINATOR,
        Step::JointHandling(_) => JOINT_MEMBER,
        Step::PoliceParticipation => POLICE,
        Step::IssueSupervisionOrder
        | Step::RecordDeadlineWatch
        | Step::DecideSupervisionProposal => SUPERVISOR,
        Step::SupervisionOrder(action) => match action {
            OrderAction::Acknowledge | OrderAction::SubmitFeedback { .. } => HANDLER,
            _ => SUPERVISOR,
        },
        Step::ReadPersonalData | Step::ErasePerson => PII_READER,
        Step::ReadAuditLog => AUDITOR,
        Step::ReadAccessReport => &[Role::Auditor, Role::PiiReader],
        Step::ReadEvents => EVENT_READER,
        Step::ImportRecords => &[Role::Importer],
        Step::ReadLedger | Step::ExportLedger => LEDGER_READER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_steps_then_each_is_taken_by_the_staff_the_procedure_names() {
        // intake is the clerk's, handling the responsible unit's staff, opinions on review the reviewer's
        assert_eq!(roles(Step::Matter(&MatterAction::Receive)), HANDLER);
        assert_eq!(
            roles(Step::Matter(&MatterAction::RecordFinality)),
            CLERK_OR_HANDLER
        );
        assert_eq!(roles(Step::RegisterPetition), [Role::IntakeClerk]);
        // the police report and mediate disputes but never assess or assign them
        let warn = DisputeAction::Warn;
        assert!(roles(Step::Dispute(Agency::PublicSecurity, &warn)).is_empty());
        assert_eq!(
            roles(Step::Dispute(Agency::PoliticalLegal, &warn)),
            COORDINATOR
        );
        // a supervised unit answers an order; the office escalates it
        assert_eq!(
            roles(Step::SupervisionOrder(&OrderAction::Acknowledge)),
            HANDLER
        );
        assert_eq!(roles(Step::IssueSupervisionOrder), SUPERVISOR);
        // personal data is the pii_reader's alone, and the petition office reports no dispute
        assert_eq!(roles(Step::ReadPersonalData), [Role::PiiReader]);
        assert!(roles(Step::ReportDispute(Agency::Petition)).is_empty());
        // the ledger is read by whoever works a case, not by an agency's system or an importer
        assert!(roles(Step::ReadLedger).contains(&Role::Handler));
        for role in [Role::Integrator, Role::Importer, Role::PiiReader] {
            assert!(!roles(Step::ReadLedger).contains(&role), "{role}");
            assert!(!roles(Step::ExportLedger).contains(&role), "{role}");
        }
    }
}
