//! The committee's side of the deadline watch (期限预警): recording the thresholds the watcher saw and
//! the supervision proposals (督办建议) they and breached agreements make, and a supervisor's decision on
//! each proposal — issued as an order (or as the escalation of the order it is about) or dismissed.
//! Nothing here issues an order by itself.

use oneledger_domain::clock::DeadlineKind;
use oneledger_domain::ids::MAX_ITEM_ID_CHARS;
use oneledger_domain::policy::{self, Step};
use oneledger_domain::supervision::{EscalationLevel, OrderAction, SupervisionOrder};
use oneledger_domain::watch::{
    DeadlineWatch, IssueTerms, Threshold, WatchAction, parse_proposal_id,
};
use oneledger_domain::{ItemRef, SupervisionOrderId, UnitId};
use oneledger_proto::common::v1::CommandResult;
use oneledger_proto::convert::{date, optional, optional_enum_field, required_id};
use oneledger_proto::political_legal::v1 as pb;
use oneledger_store::ExpectedVersion;
use prost::Message as _;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::political_legal::{PoliticalLegalService, derived_id};
use crate::repo::{Outcome, at_version, command_digest, derived_request_id, request_id};

/// Conflicting writes to one item's watch before the caller is told to retry.
const MAX_WATCH_ATTEMPTS: u32 = 20;

/// Longest requirements text a supervisor writes on an order issued from a proposal.
const MAX_REQUIREMENTS_CHARS: usize = 4000;

/// A threshold the watcher saw, to record once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenThreshold {
    /// The item.
    pub item: ItemRef,
    /// Which deadline.
    pub deadline: DeadlineKind,
    /// Its last day as counted now.
    pub due_on: chrono::NaiveDate,
    /// The threshold reached.
    pub threshold: Threshold,
    /// The unit whose duty it is, if a unit's.
    pub duty_of: Option<UnitId>,
}

impl SeenThreshold {
    /// The request id that records it: derived from what it is, so a restarted watcher, or a second one
    /// racing the first, records it under the same id and the store keeps it once.
    pub fn request_id(&self) -> Uuid {
        let key = format!(
            "{}|{}|{}|{}",
            self.item.key(),
            self.deadline.as_str(),
            self.due_on,
            self.threshold.as_str()
        );
        derived_request_id(key.as_bytes(), b"deadline-threshold")
    }
}

impl PoliticalLegalService {
    /// Records `seen` on its item's watch, once: a threshold already recorded is not an error.
    /// Returns true when this call recorded it.
    pub async fn record_threshold(
        &self,
        caller: &Caller,
        seen: &SeenThreshold,
    ) -> Result<bool, ServiceError> {
        let request_id = seen.request_id();
        let digest = command_digest("RecordThreshold", &[request_id.as_bytes()]);
        let action = WatchAction::RecordThreshold {
            item: seen.item.clone(),
            deadline: seen.deadline,
            due_on: seen.due_on,
            threshold: seen.threshold,
            duty_of: seen.duty_of.clone(),
        };
        match self
            .watch(caller, &seen.item, action, request_id, &digest)
            .await
        {
            Ok(outcome) => Ok(!outcome.replayed),
            // Recorded under another request (an earlier due date's run), or raced: already there.
            Err(ServiceError::Domain(oneledger_domain::DomainError::Refused { .. })) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Proposes supervising `unit` for its breach of an obligation on `matter`, once per recorded breach
    /// (`event_id`): the committee acts on the petition office's record by proposing, never by issuing.
    pub(crate) async fn propose_for_breach(
        &self,
        caller: &Caller,
        matter: &ItemRef,
        unit: &UnitId,
        agreement: (&str, &str),
        event_id: Uuid,
    ) -> Result<(), ServiceError> {
        let request_id = derived_request_id(event_id.as_bytes(), b"breach-proposal");
        let digest = command_digest("ProposeForBreach", &[event_id.as_bytes()]);
        let action = WatchAction::ProposeForBreach {
            item: matter.clone(),
            unit: unit.clone(),
            agreement_id: agreement.0.to_owned(),
            obligation_id: agreement.1.to_owned(),
        };
        self.watch(caller, matter, action, request_id, &digest)
            .await
            .map(|_| ())
    }

    /// Executes `action` on `item`'s watch at the version it was decided against: a proposal's number
    /// and "not yet recorded" hold only of the state they were decided on. A conflict with another
    /// writer (the watcher, a supervisor) is read again and decided again.
    async fn watch(
        &self,
        caller: &Caller,
        item: &ItemRef,
        action: WatchAction,
        request_id: Uuid,
        digest: &[u8],
    ) -> Result<Outcome<DeadlineWatch>, ServiceError> {
        let key = item.key();
        let role = caller.acting_role(policy::roles(Step::RecordDeadlineWatch));
        let mut attempts = 0;
        loop {
            let expected = at_version(self.watches.load(&key).await?.version);
            let result = self
                .watches
                .execute(
                    &key,
                    expected,
                    caller,
                    role,
                    action.clone(),
                    request_id,
                    digest,
                )
                .await;
            match result {
                Err(ServiceError::Conflict { .. }) if attempts < MAX_WATCH_ATTEMPTS => {
                    attempts += 1
                }
                other => return other,
            }
        }
    }

    /// Issues a proposal. The proposal is marked issued first, at the version it was read at, so of two
    /// supervisors issuing it at once one is refused before any order exists; then the order is issued
    /// (or escalated) under a request id derived from the call's. A retry under the same request id
    /// finds both steps done and answers the same order.
    pub(crate) async fn issue_proposal(
        &self,
        caller: &Caller,
        req: &pb::IssueSupervisionProposalRequest,
    ) -> Result<pb::IssueSupervisionProposalResponse, ServiceError> {
        let roles = policy::roles(Step::DecideSupervisionProposal);
        caller.require_any(roles, "issuing a supervision proposal")?;
        let digest = command_digest("IssueSupervisionProposal", &[&req.encode_to_vec()]);
        let request_id = request_id(&req.request_id)?;
        let (item, number) = proposal("proposal_id", &req.proposal_id)?;
        let terms = IssueTerms {
            due_on: match req.due_on.trim() {
                "" => None,
                raw => Some(date("due_on", raw)?),
            },
            requirements: optional("requirements", &req.requirements, MAX_REQUIREMENTS_CHARS)?,
            escalate_to: optional_enum_field::<EscalationLevel>("escalate_to", req.escalate_to)?,
        };
        let watch = self.watches.get(&item.key(), "proposal").await?;
        let escalates = watch
            .state
            .proposals
            .iter()
            .find(|p| p.number == number)
            .ok_or_else(|| ServiceError::NotFound(format!("proposal {}", req.proposal_id)))?
            .source
            .escalates();
        let order_request = derived_request_id(request_id.as_bytes(), b"order");
        let order_id = match (&item, escalates) {
            (ItemRef::SupervisionOrder(id), true) => id.clone(),
            (_, true) => {
                return Err(ServiceError::invalid(
                    "proposal_id",
                    "an escalation proposal names an order",
                ));
            }
            (_, false) => SupervisionOrderId(derived_id("SO", order_request)),
        };
        let expected = ExpectedVersion::Exact(watch.version);
        let role = caller.acting_role(roles);
        let action = WatchAction::Issue {
            number,
            order_id: order_id.clone(),
        };
        let outcome = self
            .watches
            .execute(
                &item.key(),
                expected,
                caller,
                role,
                action,
                request_id,
                &digest,
            )
            .await?;
        let proposal = outcome
            .state
            .proposals
            .iter()
            .find(|p| p.number == number)
            .ok_or_else(|| ServiceError::Internal("an issued proposal is missing".into()))?;
        let today = self.clock.today();
        if escalates {
            let order = self.orders.get(&order_id.0, "supervision order").await?;
            let escalation = proposal.issue(
                &item,
                order_id.clone(),
                today,
                order.state.escalation,
                terms,
                &self.rules,
            );
            self.act_on_order(caller, &order_id.0, escalation, order_request, &digest)
                .await?;
        } else {
            let order = proposal.issue(&item, order_id.clone(), today, None, terms, &self.rules);
            self.issue(caller, &order_id.0, &item, order, order_request, &digest)
                .await?;
        }
        Ok(pb::IssueSupervisionProposalResponse {
            order_id: order_id.0,
            escalated: escalates,
            result: Some(outcome.result()),
        })
    }

    /// Dismisses a proposal with its reason.
    pub(crate) async fn dismiss_proposal(
        &self,
        caller: &Caller,
        req: &pb::DismissSupervisionProposalRequest,
    ) -> Result<CommandResult, ServiceError> {
        let roles = policy::roles(Step::DecideSupervisionProposal);
        caller.require_any(roles, "dismissing a supervision proposal")?;
        let digest = command_digest("DismissSupervisionProposal", &[&req.encode_to_vec()]);
        let request_id = request_id(&req.request_id)?;
        let (item, number) = proposal("proposal_id", &req.proposal_id)?;
        let watch = self.watches.get(&item.key(), "proposal").await?;
        let action = WatchAction::Dismiss {
            number,
            reason: req.reason.clone(),
        };
        let outcome = self
            .watches
            .execute(
                &item.key(),
                ExpectedVersion::Exact(watch.version),
                caller,
                caller.acting_role(roles),
                action,
                request_id,
                &digest,
            )
            .await?;
        Ok(outcome.result())
    }

    async fn act_on_order(
        &self,
        caller: &Caller,
        id: &str,
        action: OrderAction,
        request_id: Uuid,
        digest: &[u8],
    ) -> Result<Outcome<SupervisionOrder>, ServiceError> {
        let role = caller.acting_role(policy::roles(Step::SupervisionOrder(&action)));
        self.orders
            .execute(
                id,
                ExpectedVersion::StreamExists,
                caller,
                role,
                action,
                request_id,
                digest,
            )
            .await
    }
}

/// The item and number a proposal id names, or INVALID_ARGUMENT naming the field.
fn proposal(field: &'static str, raw: &str) -> Result<(ItemRef, u32), ServiceError> {
    let raw = required_id(field, raw, MAX_ITEM_ID_CHARS * 2)?;
    parse_proposal_id(&raw).ok_or_else(|| {
        ServiceError::invalid(
            field,
            "a proposal id is \"<item key>/<number>\", as the ledger shows it",
        )
    })
}
