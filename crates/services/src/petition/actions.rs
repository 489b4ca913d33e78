//! The wire's steps on a matter, as the domain's actions: each field checked and named as the caller
//! spelled it.

use oneledger_domain::PersonRef;
use oneledger_domain::UnitId;
use oneledger_domain::ids::{MAX_ITEM_ID_CHARS, MAX_UNIT_ID_CHARS};
use oneledger_domain::petition::{
    AgreementKind, Diversion, MAX_REASON_CHARS, MatterAction, Obligation, Obligor,
};
use oneledger_proto::convert::{
    date, enum_field, optional, optional_enum_field, optional_id, required, required_id,
};
use oneledger_proto::petition::v1::act_on_matter_request::Action;

use super::PetitionService;
use crate::error::ServiceError;

/// The domain action of a step. A confirmation names its original, which is looked up as it stands.
pub(super) async fn matter_action(
    service: &PetitionService,
    action: Action,
) -> Result<MatterAction, ServiceError> {
    let unit = |field: &str, raw: &str| required_id(field, raw, MAX_UNIT_ID_CHARS).map(UnitId);
    Ok(match action {
        Action::ConfirmRepeat(c) => MatterAction::ConfirmRepeat {
            original: service
                .summary_of("confirm_repeat.original_matter_id", &c.original_matter_id)
                .await?,
            new_facts: c.new_facts,
        },
        Action::DismissRepeat(r) => MatterAction::DismissRepeat {
            reason: required("dismiss_repeat.reason", &r.reason, MAX_REASON_CHARS)?,
        },
        Action::Forward(r) => MatterAction::Forward {
            to: unit("forward.unit_id", &r.unit_id)?,
            territorial_unit: optional_id(
                "forward.territorial_unit_id",
                &r.territorial_unit_id,
                MAX_UNIT_ID_CHARS,
            )?
            .map(UnitId),
        },
        Action::Assign(r) => MatterAction::Assign {
            to: unit("assign.unit_id", &r.unit_id)?,
            territorial_unit: optional_id(
                "assign.territorial_unit_id",
                &r.territorial_unit_id,
                MAX_UNIT_ID_CHARS,
            )?
            .map(UnitId),
        },
        Action::Divert(d) => MatterAction::Divert {
            diversion: match d.diversion.as_str() {
                "litigation_related" => Diversion::LitigationRelated,
                "accusation" => Diversion::Accusation,
                "other_procedure" => Diversion::OtherProcedure,
                _ => {
                    return Err(ServiceError::invalid(
                        "divert.diversion",
                        "litigation_related, accusation or other_procedure",
                    ));
                }
            },
            to: unit("divert.unit_id", &d.unit_id)?,
            channel: required("divert.channel", &d.channel, MAX_REASON_CHARS)?,
        },
        Action::Receive(_) => MatterAction::Receive,
        Action::SendReceiptNotice(_) => MatterAction::SendReceiptNotice,
        Action::ObjectToRouting(r) => MatterAction::ObjectToRouting {
            reason: required("object_to_routing.reason", &r.reason, MAX_REASON_CHARS)?,
        },
        Action::DecideRoutingObjection(d) => {
            MatterAction::DecideRoutingObjection { upheld: d.upheld }
        }
        Action::Accept(a) => MatterAction::Accept {
            class: enum_field("accept.claim_class", a.claim_class)?,
            route: optional_enum_field("accept.route", a.route)?,
            channel: optional("accept.channel", &a.channel, MAX_REASON_CHARS)?,
            accused_unit: optional_id(
                "accept.accused_unit_id",
                &a.accused_unit_id,
                MAX_UNIT_ID_CHARS,
            )?
            .map(UnitId),
        },
        Action::NotAccept(n) => MatterAction::NotAccept {
            reason: required("not_accept.reason", &n.reason, MAX_REASON_CHARS)?,
            competent_channel: required(
                "not_accept.competent_channel",
                &n.competent_channel,
                1000,
            )?,
        },
        Action::ExtendHandling(e) => MatterAction::ExtendHandling {
            days: e.days,
            approver: unit("extend_handling.approver_unit_id", &e.approver_unit_id)?,
            reason: required("extend_handling.reason", &e.reason, MAX_REASON_CHARS)?,
        },
        Action::IssueHandlingOpinion(o) => MatterAction::IssueHandlingOpinion {
            outcome: enum_field("issue_handling_opinion.outcome", o.outcome)?,
        },
        Action::DeliverReply(d) => MatterAction::DeliverReply {
            delivered_on: date("deliver_reply.delivered_on", &d.delivered_on)?,
        },
        Action::RequestReview(u) => MatterAction::RequestReview {
            reviewing_unit: unit("request_review.unit_id", &u.unit_id)?,
        },
        Action::IssueReviewOpinion(o) => MatterAction::IssueReviewOpinion {
            outcome: enum_field("issue_review_opinion.outcome", o.outcome)?,
        },
        Action::RequestReReview(u) => MatterAction::RequestReReview {
            re_reviewing_unit: unit("request_re_review.unit_id", &u.unit_id)?,
        },
        Action::OpenHearing(_) => MatterAction::OpenHearing,
        Action::CloseHearing(_) => MatterAction::CloseHearing,
        Action::IssueReReviewOpinion(o) => MatterAction::IssueReReviewOpinion {
            outcome: enum_field("issue_re_review_opinion.outcome", o.outcome)?,
        },
        Action::RecordFinality(_) => MatterAction::RecordFinality,
        Action::RecordImplementation(_) => MatterAction::RecordImplementation,
        Action::RecordAgreement(a) => {
            let mut obligations = Vec::with_capacity(a.obligations.len());
            for (i, o) in a.obligations.into_iter().enumerate() {
                let field = |name: &str| format!("record_agreement.obligations[{i}].{name}");
                let obligor = match (
                    optional_id(
                        &field("obligor_unit_id"),
                        &o.obligor_unit_id,
                        MAX_UNIT_ID_CHARS,
                    )?,
                    optional_id(
                        &field("obligor_person_ref"),
                        &o.obligor_person_ref,
                        MAX_ITEM_ID_CHARS,
                    )?,
                ) {
                    (Some(unit), None) => Obligor::Unit(UnitId(unit)),
                    (None, Some(person)) => Obligor::Petitioner(PersonRef(person)),
                    _ => {
                        return Err(ServiceError::invalid(
                            field("obligor_unit_id"),
                            "name exactly one obligor: a unit or a person_ref",
                        ));
                    }
                };
                obligations.push(Obligation {
                    obligation_id: o.obligation_id,
                    obligor,
                    description: o.description,
                    due_on: date(&field("due_on"), &o.due_on)?,
                });
            }
            MatterAction::RecordAgreement {
                agreement_id: a.agreement_id,
                kind: match optional_enum_field("record_agreement.kind", a.kind)? {
                    Some(kind) => kind,
                    None if a.mediation => AgreementKind::Mediation,
                    None => AgreementKind::Settlement,
                },
                obligations,
            }
        }
        Action::RecordObligation(o) => {
            if o.met {
                MatterAction::RecordObligationMet {
                    agreement_id: o.agreement_id,
                    obligation_id: o.obligation_id,
                }
            } else {
                MatterAction::RecordObligationBreached {
                    agreement_id: o.agreement_id,
                    obligation_id: o.obligation_id,
                }
            }
        }
    })
}
