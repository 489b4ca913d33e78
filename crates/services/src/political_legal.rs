//! The political-legal committee's service (政法委): screening and risk warnings, assignment, joint
//! handling, supervision orders and their escalation, and links between items of all agencies.

use std::sync::Arc;

use oneledger_clock::Clock;
use oneledger_domain::dispute::DisputeSource;
use oneledger_domain::ids::{MAX_ITEM_ID_CHARS, MAX_UNIT_ID_CHARS};
use oneledger_domain::joint::{CoHandlerRole, JointAction, JointHandling};
use oneledger_domain::link::{LinkAction, LinkRegistry};
use oneledger_domain::petition::MAX_REASON_CHARS;
use oneledger_domain::policy::{self, Step};
use oneledger_domain::supervision::{OrderAction, OrderStage, SupervisionOrder, SupervisionReason};
use oneledger_domain::watch::DeadlineWatch;
use oneledger_domain::{
    Agency, DomainError, ItemKind, ItemRef, JointHandlingId, Rule, Rules, SupervisionOrderId,
    UnitId, streams,
};
use oneledger_proto::political_legal::v1::{
    self as pb, act_on_joint_handling_request as jh, act_on_supervision_order_request as so,
};
use oneledger_store::ExpectedVersion;
use prost::Message as _;
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::auth::{Caller, caller};
use crate::disputes::Disputes;
use crate::error::ServiceError;
use crate::items::ItemLookup;
use crate::repo::{
    CachedAggregate, Context, Outcome, Repository, command_digest, derived_request_id,
    expected_version, request_id,
};
use oneledger_proto::common::v1::CommandResult;
use oneledger_proto::convert::{date, enum_field, item, required, required_id};

/// Stream prefix of joint handlings.
pub const JOINT_STREAM: &str = ItemKind::JointHandling.as_str();
/// Stream prefix of supervision orders.
pub const ORDER_STREAM: &str = ItemKind::SupervisionOrder.as_str();
/// Stream prefix of the district's link registry.
pub const LINK_STREAM: &str = streams::LINK;

/// The political-legal service.
#[derive(Debug, Clone)]
pub struct PoliticalLegalService {
    disputes: Disputes,
    pub(crate) items: ItemLookup,
    pub(crate) joint: Repository<JointHandling>,
    pub(crate) orders: Repository<SupervisionOrder>,
    /// Every item's deadline watch: thresholds passed, supervision proposals.
    pub(crate) watches: Repository<DeadlineWatch>,
    /// The district's one link registry, kept caught up in memory (see [`CachedAggregate`]).
    links: Arc<CachedAggregate<LinkRegistry>>,
    /// The calendar and directory, for the orders issued from proposals.
    pub(crate) rules: Arc<Rules>,
    /// Today, for the orders issued from proposals.
    pub(crate) clock: Clock,
}

impl PoliticalLegalService {
    /// The service over the committee's store.
    pub fn new(ctx: Arc<Context>) -> Self {
        PoliticalLegalService {
            disputes: Disputes::new(ctx.clone()),
            items: ctx.items.clone(),
            joint: Repository::new(ctx.clone(), JOINT_STREAM),
            orders: Repository::new(ctx.clone(), ORDER_STREAM),
            watches: Repository::new(ctx.clone(), streams::DEADLINE_WATCH),
            clock: ctx.clock.clone(),
            links: Arc::new(CachedAggregate::new(
                Repository::new(ctx.clone(), LINK_STREAM),
                ctx.district.clone(),
            )),
            rules: ctx.rules.clone(),
        }
    }

    /// Reads the district's link registry into memory.
    pub async fn warm(&self) -> Result<(), ServiceError> {
        self.links.warm().await
    }

    /// Records a link in the district's registry. One registry per district: every link is decided against
    /// all the others; a conflict with another process is caught up and decided again. Answers with the
    /// root of the anchor after the link.
    async fn link(
        &self,
        caller: &Caller,
        link: Link<'_>,
    ) -> Result<(ItemRef, CommandResult), ServiceError> {
        let action = LinkAction::Link {
            anchor: link.anchor.clone(),
            other: link.other.clone(),
            reason: link.reason.to_owned(),
        };
        let role = caller.acting_role(policy::roles(Step::LinkItems));
        self.links
            .execute(
                caller,
                role,
                action,
                link.request_id,
                link.digest,
                MAX_LINK_ATTEMPTS,
                |registry| registry.root(link.anchor),
            )
            .await
    }

    /// Joins a new item to the entry of the subject it names, with a link the service records itself:
    /// what names a subject is about it, so nobody has to link it by hand. Under a request id and digest
    /// derived from the command's, so a retry of the command that made the item joins it once.
    pub(crate) async fn join_subject(
        &self,
        caller: &Caller,
        subject: &ItemRef,
        item: ItemRef,
        request_id: Uuid,
        digest: &[u8],
    ) -> Result<(), ServiceError> {
        let link = Link {
            anchor: subject,
            other: &item,
            reason: "names it as its subject",
            request_id: derived_request_id(request_id.as_bytes(), b"subject"),
            digest: &command_digest("JoinSubject", &[digest]),
        };
        match self.link(caller, link).await {
            // Already in one entry: nothing to join.
            Err(ServiceError::Domain(DomainError::Refused {
                rule: Rule::OneRoot,
                ..
            })) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Issues order `id` about `subject` and joins it to the subject's entry, under `request_id` bound to
    /// `digest`.
    pub(crate) async fn issue(
        &self,
        caller: &Caller,
        id: &str,
        subject: &ItemRef,
        action: OrderAction,
        request_id: Uuid,
        digest: &[u8],
    ) -> Result<Outcome<SupervisionOrder>, ServiceError> {
        let outcome = self
            .orders
            .execute(
                id,
                ExpectedVersion::NoStream,
                caller,
                caller.acting_role(policy::roles(Step::IssueSupervisionOrder)),
                action,
                request_id,
                digest,
            )
            .await?;
        let order = ItemRef::SupervisionOrder(SupervisionOrderId(id.to_owned()));
        self.join_subject(caller, subject, order, request_id, digest)
            .await?;
        Ok(outcome)
    }

    fn writer(&self, request: &Request<impl Sized>) -> Result<Caller, ServiceError> {
        let caller = caller(request)?;
        caller.require_agency(Agency::PoliticalLegal)?;
        Ok(caller)
    }
}

/// Conflicting attempts at one link before the caller is told to retry (ABORTED).
const MAX_LINK_ATTEMPTS: u32 = 50;

/// A link to record: the items, why, and the request it is recorded under.
struct Link<'a> {
    anchor: &'a ItemRef,
    other: &'a ItemRef,
    reason: &'a str,
    request_id: Uuid,
    digest: &'a [u8],
}

/// An id derived from a request id, so a retried creation names the same item.
pub(crate) fn derived_id(prefix: &str, request_id: Uuid) -> String {
    format!(
        "{prefix}{}",
        hex::encode(&Sha256::digest(request_id.as_bytes())[..10]).to_uppercase()
    )
}

#[tonic::async_trait]
impl pb::political_legal_service_server::PoliticalLegalService for PoliticalLegalService {
    async fn report_dispute(
        &self,
        request: Request<pb::ReportDisputeRequest>,
    ) -> Result<Response<pb::ReportDisputeResponse>, Status> {
        let caller = self.writer(&request)?;
        let req = request.into_inner();
        let screening = [
            DisputeSource::DailyScreening,
            DisputeSource::CentralizedScreening,
            DisputeSource::SpecialScreening,
            DisputeSource::UnitReport,
        ];
        let (dispute, result) = self
            .disputes
            .report(&caller, &req.request_id, req.report, &screening)
            .await?;
        Ok(Response::new(pb::ReportDisputeResponse {
            dispute: Some(dispute),
            result: Some(result),
        }))
    }

    async fn act_on_dispute(
        &self,
        request: Request<pb::ActOnDisputeRequest>,
    ) -> Result<Response<pb::ActOnDisputeResponse>, Status> {
        let caller = self.writer(&request)?;
        let req = request.into_inner();
        let (dispute, result) = self
            .disputes
            .act(
                &caller,
                &req.request_id,
                &req.dispute_id,
                req.expected_version,
                req.step,
            )
            .await?;
        Ok(Response::new(pb::ActOnDisputeResponse {
            dispute: Some(dispute),
            result: Some(result),
        }))
    }

    async fn open_joint_handling(
        &self,
        request: Request<pb::OpenJointHandlingRequest>,
    ) -> Result<Response<pb::OpenJointHandlingResponse>, Status> {
        let caller = self.writer(&request)?;
        caller.require_any(
            policy::roles(Step::OpenJointHandling),
            "opening a joint handling",
        )?;
        let req = request.into_inner();
        let digest = command_digest("OpenJointHandling", &[&req.encode_to_vec()]);
        let request_id = request_id(&req.request_id)?;
        let id = derived_id("JH", request_id);
        let co_handlers = co_handlers(&req.co_handlers, |_| None)?;
        let subject = item("subject", req.subject.as_ref())?;
        self.items.require("subject", &subject).await?;
        let action = JointAction::Open {
            joint_handling_id: JointHandlingId(id.clone()),
            subject: subject.clone(),
            lead_unit: UnitId(required_id(
                "lead_unit_id",
                &req.lead_unit_id,
                MAX_UNIT_ID_CHARS,
            )?),
            co_handlers,
            political_legal_committee: caller.unit.clone(),
        };
        let outcome = self
            .joint
            .execute(
                &id,
                ExpectedVersion::NoStream,
                &caller,
                caller.acting_role(policy::roles(Step::OpenJointHandling)),
                action,
                request_id,
                &digest,
            )
            .await?;
        let joint = ItemRef::JointHandling(JointHandlingId(id.clone()));
        self.join_subject(&caller, &subject, joint, request_id, &digest)
            .await?;
        let s = &outcome.state;
        let mut informed: Vec<String> = s
            .lead_unit
            .iter()
            .chain(s.co_handlers.keys())
            .map(|u| u.0.clone())
            .collect();
        if !informed.contains(&caller.unit.0) {
            informed.push(caller.unit.0.clone());
        }
        Ok(Response::new(pb::OpenJointHandlingResponse {
            joint_handling_id: id,
            informed_unit_ids: informed,
            result: Some(outcome.result()),
        }))
    }

    async fn act_on_joint_handling(
        &self,
        request: Request<pb::ActOnJointHandlingRequest>,
    ) -> Result<Response<pb::ActOnJointHandlingResponse>, Status> {
        let caller = self.writer(&request)?;
        let req = request.into_inner();
        let digest = command_digest("ActOnJointHandling", &[&req.encode_to_vec()]);
        let request_id = request_id(&req.request_id)?;
        let id = required_id(
            "joint_handling_id",
            &req.joint_handling_id,
            MAX_ITEM_ID_CHARS,
        )?;
        let expected = expected_version(req.expected_version)?;
        let action = match req
            .action
            .ok_or_else(|| ServiceError::invalid("action", "required"))?
        {
            jh::Action::AddTask(t) => JointAction::AddTask {
                task_id: required_id("add_task.task_id", &t.task_id, MAX_ITEM_ID_CHARS)?,
                unit: UnitId(required_id(
                    "add_task.unit_id",
                    &t.unit_id,
                    MAX_UNIT_ID_CHARS,
                )?),
                description: t.description,
                due_on: date("add_task.due_on", &t.due_on)?,
            },
            jh::Action::RecordProgress(p) => JointAction::RecordProgress {
                task_id: p.task_id,
                note: p.note,
            },
            jh::Action::CompleteTask(task_id) => JointAction::CompleteTask { task_id },
            jh::Action::ClosePart(_) => JointAction::ClosePart,
            jh::Action::SubmitResolutionReport(summary) => {
                JointAction::SubmitResolutionReport { summary }
            }
            jh::Action::Close(_) => JointAction::Close,
        };
        let roles = policy::roles(Step::JointHandling(&action));
        caller.require_any(roles, "acting on a joint handling")?;
        let role = caller.acting_role(roles);
        let outcome = self
            .joint
            .execute(&id, expected, &caller, role, action, request_id, &digest)
            .await?;
        Ok(Response::new(pb::ActOnJointHandlingResponse {
            result: Some(outcome.result()),
        }))
    }

    async fn issue_supervision_order(
        &self,
        request: Request<pb::IssueSupervisionOrderRequest>,
    ) -> Result<Response<pb::IssueSupervisionOrderResponse>, Status> {
        let caller = self.writer(&request)?;
        caller.require_any(
            policy::roles(Step::IssueSupervisionOrder),
            "issuing a supervision order",
        )?;
        let req = request.into_inner();
        let digest = command_digest("IssueSupervisionOrder", &[&req.encode_to_vec()]);
        let request_id = request_id(&req.request_id)?;
        let id = derived_id("SO", request_id);
        let reason = match req.reason.as_str() {
            "agreement_breach" => SupervisionReason::AgreementBreach {
                agreement_id: String::new(),
            },
            "risk" => SupervisionReason::Risk,
            "repeat_petitions" => SupervisionReason::RepeatPetitions,
            "other" | "" => SupervisionReason::Other,
            "overdue" => SupervisionReason::Overdue {
                deadline: oneledger_domain::DeadlineKind::Handling,
            },
            _ => {
                return Err(ServiceError::invalid(
                    "reason",
                    "overdue, agreement_breach, risk, repeat_petitions or other",
                )
                .into());
            }
        };
        let subject = item("subject", req.subject.as_ref())?;
        self.items.require("subject", &subject).await?;
        let action = OrderAction::Issue {
            order_id: SupervisionOrderId(id.clone()),
            subject: subject.clone(),
            to_unit: UnitId(required_id(
                "to_unit_id",
                &req.to_unit_id,
                MAX_UNIT_ID_CHARS,
            )?),
            due_on: date("due_on", &req.due_on)?,
            reason,
            requirements: req.requirements,
        };
        let outcome = self
            .issue(&caller, &id, &subject, action, request_id, &digest)
            .await?;
        Ok(Response::new(pb::IssueSupervisionOrderResponse {
            order_id: id,
            result: Some(outcome.result()),
        }))
    }

    async fn act_on_supervision_order(
        &self,
        request: Request<pb::ActOnSupervisionOrderRequest>,
    ) -> Result<Response<pb::ActOnSupervisionOrderResponse>, Status> {
        let caller = self.writer(&request)?;
        let req = request.into_inner();
        let digest = command_digest("ActOnSupervisionOrder", &[&req.encode_to_vec()]);
        let request_id = request_id(&req.request_id)?;
        let id = required_id("order_id", &req.order_id, MAX_ITEM_ID_CHARS)?;
        let expected = expected_version(req.expected_version)?;
        let action = match req
            .action
            .ok_or_else(|| ServiceError::invalid("action", "required"))?
        {
            so::Action::Acknowledge(_) => OrderAction::Acknowledge,
            so::Action::SubmitFeedback(summary) => OrderAction::SubmitFeedback { summary },
            so::Action::AcceptFeedback(_) => OrderAction::AcceptFeedback,
            so::Action::RejectFeedback(r) => OrderAction::RejectFeedback {
                reason: r.reason,
                due_on: date("reject_feedback.due_on", &r.due_on)?,
            },
            so::Action::Escalate(e) => OrderAction::Escalate {
                level: enum_field("escalate.level", e.level)?,
                note: e.note,
            },
            so::Action::RecordAdoption(adopted) => OrderAction::RecordAdoption { adopted },
        };
        let roles = policy::roles(Step::SupervisionOrder(&action));
        caller.require_any(roles, "this step")?;
        let outcome = self
            .orders
            .execute(
                &id,
                expected,
                &caller,
                caller.acting_role(roles),
                action,
                request_id,
                &digest,
            )
            .await?;
        let stage = match outcome.state.stage {
            OrderStage::Unissued => "unissued",
            OrderStage::Issued => "issued",
            OrderStage::Acknowledged => "acknowledged",
            OrderStage::FeedbackSubmitted => "feedback_submitted",
            OrderStage::Closed => "closed",
        };
        Ok(Response::new(pb::ActOnSupervisionOrderResponse {
            escalation: outcome
                .state
                .escalation
                .map_or(pb::Escalation::Unspecified, Into::into) as i32,
            stage: stage.into(),
            result: Some(outcome.result()),
        }))
    }

    async fn link_items(
        &self,
        request: Request<pb::LinkItemsRequest>,
    ) -> Result<Response<pb::LinkItemsResponse>, Status> {
        let caller = self.writer(&request)?;
        caller.require_any(policy::roles(Step::LinkItems), "linking items")?;
        let req = request.into_inner();
        let digest = command_digest("LinkItems", &[&req.encode_to_vec()]);
        let request_id = request_id(&req.request_id)?;
        let anchor = item("anchor", req.anchor.as_ref())?;
        let other = item("other", req.other.as_ref())?;
        self.items.require("anchor", &anchor).await?;
        self.items.require("other", &other).await?;
        let reason = required("reason", &req.reason, MAX_REASON_CHARS)?;
        let link = Link {
            anchor: &anchor,
            other: &other,
            reason: &reason,
            request_id,
            digest: &digest,
        };
        let (root, result) = self.link(&caller, link).await?;
        Ok(Response::new(pb::LinkItemsResponse {
            root: Some((&root).into()),
            result: Some(result),
        }))
    }

    async fn issue_supervision_proposal(
        &self,
        request: Request<pb::IssueSupervisionProposalRequest>,
    ) -> Result<Response<pb::IssueSupervisionProposalResponse>, Status> {
        let caller = self.writer(&request)?;
        Ok(Response::new(
            self.issue_proposal(&caller, request.get_ref()).await?,
        ))
    }

    async fn import_disputes(
        &self,
        request: Request<pb::ImportDisputesRequest>,
    ) -> Result<Response<pb::ImportDisputesResponse>, Status> {
        let caller = self.writer(&request)?;
        Ok(Response::new(
            self.disputes.import(&caller, request.get_ref()).await?,
        ))
    }

    async fn import_orders(
        &self,
        request: Request<pb::ImportOrdersRequest>,
    ) -> Result<Response<pb::ImportOrdersResponse>, Status> {
        let caller = self.writer(&request)?;
        Ok(Response::new(
            PoliticalLegalService::import_orders(self, &caller, request.get_ref()).await?,
        ))
    }

    async fn import_joint_handlings(
        &self,
        request: Request<pb::ImportJointHandlingsRequest>,
    ) -> Result<Response<pb::ImportJointHandlingsResponse>, Status> {
        let caller = self.writer(&request)?;
        Ok(Response::new(
            PoliticalLegalService::import_joint_handlings(self, &caller, request.get_ref()).await?,
        ))
    }

    async fn dismiss_supervision_proposal(
        &self,
        request: Request<pb::DismissSupervisionProposalRequest>,
    ) -> Result<Response<pb::DismissSupervisionProposalResponse>, Status> {
        let caller = self.writer(&request)?;
        let result = self.dismiss_proposal(&caller, request.get_ref()).await?;
        Ok(Response::new(pb::DismissSupervisionProposalResponse {
            result: Some(result),
        }))
    }
}

/// The co-handling units of a request in the domain's terms. A role left unspecified is refused unless
/// `part_of` knows the part the unit plays (an import reads it from the unit's kind).
pub(crate) fn co_handlers(
    list: &[pb::CoHandler],
    part_of: impl Fn(&UnitId) -> Option<CoHandlerRole>,
) -> Result<Vec<(UnitId, CoHandlerRole)>, ServiceError> {
    let mut out = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let field = format!("co_handlers[{i}].unit_id");
        let unit = UnitId(required_id(&field, &c.unit_id, MAX_UNIT_ID_CHARS)?);
        let role = match (c.role, part_of(&unit)) {
            (0, Some(part)) => part,
            (role, _) => enum_field(&format!("co_handlers[{i}].role"), role)?,
        };
        out.push((unit, role));
    }
    Ok(out)
}
