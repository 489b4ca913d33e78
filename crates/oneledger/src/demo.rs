//! `oneledger demo`: loads a realistic year for a district into a running system through its public gRPC
//! APIs — the same calls the agencies' systems make, never a table written directly — then waits for the
//! ledger to catch up and prints its statistics beside the annual report's figures.
//!
//! The year is planned up front from the seed ([`plan`]); stories (one matter each) then run
//! concurrently, each in its own order.

mod plan;

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{Days, NaiveDate, Utc};
use futures::StreamExt;
use oneledger_domain::Agency;
use oneledger_domain::clock::legal_date;
use oneledger_proto::common::v1::{ItemKind, ItemRef};
use oneledger_proto::convert::ledger as wire;
use oneledger_proto::demo::v1::{
    self as demo_pb, demo_clock_service_client::DemoClockServiceClient,
};
use oneledger_proto::directory::v1::{
    self as directory_pb, directory_service_client::DirectoryServiceClient,
};
use oneledger_proto::dispute::v1 as dispute;
use oneledger_proto::ledger::v2::{self as ledger_pb, ledger_service_client::LedgerServiceClient};
use oneledger_proto::petition::v1::{
    self as petition_pb, act_on_matter_request as act,
    petition_service_client::PetitionServiceClient,
};
use oneledger_proto::political_legal::v1::{
    self as pl, political_legal_service_client::PoliticalLegalServiceClient,
};
use oneledger_proto::public_security::v1::{
    self as ps, public_security_service_client::PublicSecurityServiceClient,
};
use oneledger_services::{DevIssuer, Role};
use tonic::transport::Channel;

use crate::config::DemoArgs;
use plan::{
    ComeBack, DisputePlan, MediationPlan, OrderPlan, Outcome, PetitionPath, PetitionPlan, Story,
    Units,
};

/// Who calls, and through which clients.
#[derive(Clone)]
struct Caller {
    issuer: DevIssuer,
    petition: PetitionServiceClient<Channel>,
    police: PublicSecurityServiceClient<Channel>,
    committee: PoliticalLegalServiceClient<Channel>,
    units: Units,
    today: NaiveDate,
}

impl Caller {
    /// `message` with a bearer token for `unit` acting with `roles` in `agency`'s system.
    fn as_unit<T>(
        &self,
        agency: Agency,
        unit: &str,
        roles: &[Role],
        message: T,
    ) -> anyhow::Result<tonic::Request<T>> {
        let token = demo_token(&self.issuer, agency, unit, roles)?;
        Ok(oneledger_services::auth::authorized(message, &token)?)
    }

    fn date(&self, days: u64) -> String {
        (self.today + Days::new(days)).to_string()
    }

    /// One step on a petition matter as `unit`; returns the new version.
    async fn matter(
        &self,
        unit: &str,
        role: Role,
        id: &str,
        version: u64,
        action: act::Action,
    ) -> anyhow::Result<u64> {
        let request = petition_pb::ActOnMatterRequest {
            request_id: uuid(),
            matter_id: id.into(),
            expected_version: version,
            action: Some(action),
        };
        let response = self
            .petition
            .clone()
            .act_on_matter(self.as_unit(Agency::Petition, unit, &[role], request)?)
            .await
            .with_context(|| format!("matter {id} at version {version}"))?
            .into_inner();
        Ok(response.result.map(|r| r.version).unwrap_or_default())
    }

    /// Steps on a petition matter, in order, as one `unit`; returns the last version.
    async fn steps(
        &self,
        unit: &str,
        role: Role,
        id: &str,
        mut version: u64,
        actions: impl IntoIterator<Item = act::Action>,
    ) -> anyhow::Result<u64> {
        for action in actions {
            version = self.matter(unit, role, id, version, action).await?;
        }
        Ok(version)
    }

    /// Registers a petition of `p`'s petitioner about `p`'s responsible unit under `category`, by `size`
    /// people. Nobody names an earlier matter: intake finds the petitioner's earlier ones itself.
    async fn register(
        &self,
        p: &PetitionPlan,
        size: u32,
        category: &str,
    ) -> anyhow::Result<petition_pb::RegisterPetitionResponse> {
        let request = petition_pb::RegisterPetitionRequest {
            request_id: uuid(),
            channel: petition_pb::Channel::Visit as i32,
            claim_class: petition_pb::ClaimClass::Claim as i32,
            title: p.title.clone(),
            petitioners: vec![petition_pb::Petitioner {
                name: p.petitioner.name.clone(),
                id_number: p.petitioner.id_number.clone(),
                phone: p.petitioner.phone.clone(),
                ..Default::default()
            }],
            collective_size: size,
            territory_unit_id: p.territory.clone(),
            category: category.to_owned(),
            respondent_unit_id: p.responsible.clone(),
            ..Default::default()
        };
        Ok(self
            .petition
            .clone()
            .register_petition(self.as_unit(
                Agency::Petition,
                &self.units.petition_office,
                &[Role::IntakeClerk],
                request,
            )?)
            .await
            .context("registering a petition")?
            .into_inner())
    }

    /// Registers `p` and takes it along its path; returns its id.
    async fn petition(&self, p: &PetitionPlan) -> anyhow::Result<String> {
        let id = self.petition_path(p).await?;
        self.come_back(p).await?;
        Ok(id)
    }

    /// The petitioner comes back before the story ends (重信重访), nobody naming the earlier matter:
    /// about the same claim, or about the same unit under another category, which the clerk decides.
    async fn come_back(&self, p: &PetitionPlan) -> anyhow::Result<()> {
        let Some(how) = p.comes_back else {
            return Ok(());
        };
        let category = match how {
            ComeBack::SameClaim => p.category.as_str(),
            ComeBack::OtherCategory { .. } => plan::other_category(&p.category),
        };
        let again = self.register(p, 1, category).await?;
        let Some(intake) = again.matter.and_then(|m| m.intake) else {
            bail!("registration {} tells no intake outcome", again.matter_id);
        };
        let ComeBack::OtherCategory { confirmed } = how else {
            return Ok(());
        };
        if intake.outcome != petition_pb::IntakeOutcome::PossibleRepeat as i32 {
            bail!(
                "{}: not flagged as a possible repeat: {intake:?}",
                again.matter_id
            );
        }
        let version = again.result.map(|r| r.version).unwrap_or_default();
        let decision = if confirmed {
            act::Action::ConfirmRepeat(act::ConfirmRepeat {
                original_matter_id: intake.original_matter_id,
                new_facts: false,
            })
        } else {
            act::Action::DismissRepeat(act::Reason {
                reason: "反映的是另一诉求".into(),
            })
        };
        self.matter(
            &self.units.petition_office,
            Role::IntakeClerk,
            &again.matter_id,
            version,
            decision,
        )
        .await?;
        Ok(())
    }

    /// Registers `p` and takes it along its path; returns its id.
    async fn petition_path(&self, p: &PetitionPlan) -> anyhow::Result<String> {
        let u = &self.units;
        let registered = self.register(p, p.collective_size, &p.category).await?;
        let id = registered.matter_id.clone();
        let mut v = registered.result.map(|r| r.version).unwrap_or_default();
        if p.path == PetitionPath::Registered {
            return Ok(id);
        }
        let (office, handler) = (u.petition_office.as_str(), p.responsible.as_str());
        v = self
            .matter(
                office,
                Role::IntakeClerk,
                &id,
                v,
                act::Action::Assign(act::Route {
                    unit_id: p.responsible.clone(),
                    territorial_unit_id: p.territorial.clone(),
                }),
            )
            .await?;
        if p.path == PetitionPath::Assigned {
            return self
                .order(p.order.as_ref(), &id, ItemKind::PetitionMatter, handler)
                .await;
        }
        v = self
            .matter(
                handler,
                Role::Handler,
                &id,
                v,
                act::Action::Receive(act::Empty {}),
            )
            .await?;
        if p.notice {
            v = self
                .matter(
                    handler,
                    Role::Handler,
                    &id,
                    v,
                    act::Action::SendReceiptNotice(act::Empty {}),
                )
                .await?;
        }
        match p.path {
            PetitionPath::Received => {}
            PetitionPath::NotAccepted => {
                self.matter(
                    handler,
                    Role::Handler,
                    &id,
                    v,
                    act::Action::NotAccept(act::NotAccept {
                        reason: "a matter for the courts".into(),
                        competent_channel: "district people's court".into(),
                    }),
                )
                .await?;
            }
            PetitionPath::Channelled => {
                self.matter(
                    handler,
                    Role::Handler,
                    &id,
                    v,
                    act::Action::Accept(act::Accept {
                        claim_class: petition_pb::ClaimClass::Claim as i32,
                        route: petition_pb::ClaimRoute::Arbitration as i32,
                        channel: "district labour dispute arbitration commission".into(),
                        ..Default::default()
                    }),
                )
                .await?;
            }
            _ => {
                v = self
                    .matter(
                        handler,
                        Role::Handler,
                        &id,
                        v,
                        act::Action::Accept(act::Accept {
                            claim_class: petition_pb::ClaimClass::Claim as i32,
                            route: petition_pb::ClaimRoute::PetitionRoute as i32,
                            ..Default::default()
                        }),
                    )
                    .await?;
                self.handle(p, &id, v).await?;
            }
        }
        self.order(p.order.as_ref(), &id, ItemKind::PetitionMatter, handler)
            .await
    }

    /// A petition on the petition route from handling to where its plan stops.
    async fn handle(&self, p: &PetitionPlan, id: &str, mut v: u64) -> anyhow::Result<()> {
        let u = &self.units;
        let handler = p.responsible.as_str();
        if p.extend {
            v = self
                .matter(
                    handler,
                    Role::Handler,
                    id,
                    v,
                    act::Action::ExtendHandling(act::Extend {
                        days: 30,
                        approver_unit_id: u.reviewer_of(handler)?.to_owned(),
                        reason: "site inspection and expert opinion needed".into(),
                    }),
                )
                .await?;
        }
        if p.path == PetitionPath::Handling {
            return Ok(());
        }
        let opinion = |o: Outcome| {
            let outcome = match o {
                Outcome::Supported => petition_pb::Outcome::Supported,
                Outcome::Explained => petition_pb::Outcome::Explained,
                Outcome::NotSupported => petition_pb::Outcome::NotSupported,
                Outcome::Upheld => petition_pb::Outcome::Upheld,
                Outcome::Changed => petition_pb::Outcome::Changed,
                Outcome::Revoked => petition_pb::Outcome::Revoked,
            };
            act::Opinion {
                outcome: outcome as i32,
            }
        };
        let deliver = || {
            act::Action::DeliverReply(act::Delivery {
                delivered_on: self.today.to_string(),
            })
        };
        v = self
            .steps(
                handler,
                Role::Handler,
                id,
                v,
                [
                    act::Action::IssueHandlingOpinion(opinion(p.handling)),
                    deliver(),
                ],
            )
            .await?;
        if p.path == PetitionPath::Replied {
            return Ok(());
        }
        let unit = |u: &str| act::Unit { unit_id: u.into() };
        // Review one level up from the responsible unit, re-review one above that (arts. 35–36).
        let district = u.reviewer_of(handler)?;
        v = self
            .steps(
                district,
                Role::Reviewer,
                id,
                v,
                [
                    act::Action::RequestReview(unit(district)),
                    act::Action::IssueReviewOpinion(opinion(p.review)),
                    deliver(),
                ],
            )
            .await?;
        if p.path == PetitionPath::Reviewed {
            return Ok(());
        }
        let city = u.reviewer_of(district)?;
        let mut re_review = vec![act::Action::RequestReReview(unit(city))];
        if p.hearing {
            re_review.push(act::Action::OpenHearing(act::Empty {}));
            re_review.push(act::Action::CloseHearing(act::Empty {}));
        }
        re_review.push(act::Action::IssueReReviewOpinion(opinion(p.re_review)));
        re_review.push(deliver());
        self.steps(city, Role::Reviewer, id, v, re_review).await?;
        if p.repeat {
            // The same facts again after conclusion: intake finds the concluded matter and it is not
            // accepted again (art. 36 ¶3).
            let again = self.register(p, 1, &p.category).await?;
            let stage = again.matter.map(|m| m.stage).unwrap_or_default();
            if stage != "not_accepted_again" {
                bail!("{}: a repeat of concluded {id} is {stage}", again.matter_id);
            }
        }
        Ok(())
    }

    /// Issues `order` (if any) on an item to `to_unit` and takes it along its plan; returns the item's id.
    async fn order(
        &self,
        order: Option<&OrderPlan>,
        id: &str,
        kind: ItemKind,
        to_unit: &str,
    ) -> anyhow::Result<String> {
        let Some(order) = order else {
            return Ok(id.to_owned());
        };
        let u = &self.units;
        let issuer = u.meeting_office.as_str();
        let request = pl::IssueSupervisionOrderRequest {
            request_id: uuid(),
            subject: Some(ItemRef {
                kind: kind as i32,
                id: id.into(),
            }),
            to_unit_id: to_unit.into(),
            due_on: self.date(15),
            reason: if kind == ItemKind::Dispute {
                "risk"
            } else {
                "other"
            }
            .into(),
            requirements: "Resolve the matter and report in writing within 15 days".into(),
        };
        let issued = self
            .committee
            .clone()
            .issue_supervision_order(self.as_unit(
                Agency::PoliticalLegal,
                issuer,
                &[Role::Supervisor],
                request,
            )?)
            .await
            .context("issuing a supervision order")?
            .into_inner();
        let mut v = issued.result.map(|r| r.version).unwrap_or_default();
        use pl::act_on_supervision_order_request::{Action, Escalate};
        let mut step = async |unit: &str, role: Role, action: Action| -> anyhow::Result<()> {
            let request = pl::ActOnSupervisionOrderRequest {
                request_id: uuid(),
                order_id: issued.order_id.clone(),
                expected_version: v,
                action: Some(action),
            };
            let r = self
                .committee
                .clone()
                .act_on_supervision_order(self.as_unit(
                    Agency::PoliticalLegal,
                    unit,
                    &[role],
                    request,
                )?)
                .await
                .with_context(|| format!("order {}", issued.order_id))?
                .into_inner();
            v = r.result.map(|r| r.version).unwrap_or_default();
            Ok(())
        };
        if order.escalations == 0 {
            step(to_unit, Role::Handler, Action::Acknowledge(true)).await?;
            step(
                to_unit,
                Role::Handler,
                Action::SubmitFeedback("Resolved; written report attached".into()),
            )
            .await?;
            step(issuer, Role::Supervisor, Action::AcceptFeedback(true)).await?;
        }
        let ladder = [
            pl::Escalation::Interview,
            pl::Escalation::PublicNotice,
            pl::Escalation::ListedSupervision,
        ];
        for level in ladder.into_iter().take(order.escalations) {
            step(
                issuer,
                Role::Supervisor,
                Action::Escalate(Escalate {
                    level: level as i32,
                    note: "no feedback by the due date".into(),
                }),
            )
            .await?;
        }
        Ok(id.to_owned())
    }

    /// One step on a committee dispute; returns the new version.
    async fn dispute_step(
        &self,
        unit: &str,
        role: Role,
        id: &str,
        version: u64,
        action: dispute::step::Action,
    ) -> anyhow::Result<u64> {
        let request = pl::ActOnDisputeRequest {
            request_id: uuid(),
            dispute_id: id.into(),
            expected_version: version,
            step: Some(dispute::Step {
                action: Some(action),
            }),
        };
        let r = self
            .committee
            .clone()
            .act_on_dispute(self.as_unit(Agency::PoliticalLegal, unit, &[role], request)?)
            .await
            .with_context(|| format!("dispute {id} at version {version}"))?
            .into_inner();
        Ok(r.result.map(|r| r.version).unwrap_or_default())
    }

    /// Links `other` into `anchor`'s entry.
    async fn link(&self, anchor: ItemRef, other: ItemRef, reason: &str) -> anyhow::Result<()> {
        let request = pl::LinkItemsRequest {
            request_id: uuid(),
            anchor: Some(anchor),
            other: Some(other),
            reason: reason.into(),
        };
        self.committee
            .clone()
            .link_items(self.as_unit(
                Agency::PoliticalLegal,
                &self.units.committee,
                &[Role::Coordinator],
                request,
            )?)
            .await
            .context("linking items")?;
        Ok(())
    }

    /// A police report at the station; returns the dispute's id.
    async fn police_report(
        &self,
        station: &str,
        title: &str,
        territory: &str,
        size: u32,
    ) -> anyhow::Result<(String, u64)> {
        let request = ps::ReportDisputeRequest {
            request_id: uuid(),
            report: Some(dispute::Report {
                source: dispute::Source::Policing as i32,
                title: title.into(),
                category: "public order".into(),
                territory_unit_id: territory.into(),
                collective_size: size,
                ..Default::default()
            }),
        };
        let r = self
            .police
            .clone()
            .report_dispute(self.as_unit(
                Agency::PublicSecurity,
                station,
                &[Role::PoliceOfficer],
                request,
            )?)
            .await
            .context("a police report")?
            .into_inner();
        let id = r.dispute.map(|d| d.dispute_id).unwrap_or_default();
        Ok((id, r.result.map(|r| r.version).unwrap_or_default()))
    }

    /// A police dispute step; returns the new version.
    async fn police_step(
        &self,
        station: &str,
        id: &str,
        version: u64,
        action: dispute::step::Action,
    ) -> anyhow::Result<u64> {
        let request = ps::ActOnDisputeRequest {
            request_id: uuid(),
            dispute_id: id.into(),
            expected_version: version,
            step: Some(dispute::Step {
                action: Some(action),
            }),
        };
        let r = self
            .police
            .clone()
            .act_on_dispute(self.as_unit(
                Agency::PublicSecurity,
                station,
                &[Role::PoliceOfficer],
                request,
            )?)
            .await
            .with_context(|| format!("police dispute {id}"))?
            .into_inner();
        Ok(r.result.map(|r| r.version).unwrap_or_default())
    }

    /// A dispute mediated at the police station and closed there.
    async fn mediation(&self, m: &MediationPlan) -> anyhow::Result<()> {
        let (id, v) = self
            .police_report(&m.station, &m.title, &m.territory, 2)
            .await?;
        let v = self
            .police_step(
                &m.station,
                &id,
                v,
                dispute::step::Action::RecordMediation(true),
            )
            .await?;
        self.police_step(
            &m.station,
            &id,
            v,
            dispute::step::Action::Close("mediated at the station; agreement signed".into()),
        )
        .await?;
        Ok(())
    }

    /// A dispute screened by the committee, along its plan.
    async fn dispute(&self, d: &DisputePlan) -> anyhow::Result<()> {
        use dispute::step::Action as S;
        let u = &self.units;
        let committee = u.committee.as_str();
        let request = pl::ReportDisputeRequest {
            request_id: uuid(),
            report: Some(dispute::Report {
                source: if d.police_first {
                    dispute::Source::DailyScreening
                } else {
                    dispute::Source::CentralizedScreening
                } as i32,
                title: d.title.clone(),
                category: d.category.clone(),
                territory_unit_id: d.territory.clone(),
                collective_size: d.collective_size,
                ..Default::default()
            }),
        };
        let reported = self
            .committee
            .clone()
            .report_dispute(self.as_unit(
                Agency::PoliticalLegal,
                committee,
                &[Role::Coordinator],
                request,
            )?)
            .await
            .context("screening a dispute")?
            .into_inner();
        let id = reported.dispute.map(|d| d.dispute_id).unwrap_or_default();
        let item = ItemRef {
            kind: ItemKind::Dispute as i32,
            id: id.clone(),
        };
        let mut v = reported.result.map(|r| r.version).unwrap_or_default();
        if d.police_first {
            // The station met it first and could not mediate it.
            let (police_id, pv) = self
                .police_report(&d.station, &d.title, &d.territory, d.collective_size)
                .await?;
            self.police_step(&d.station, &police_id, pv, S::RecordMediation(false))
                .await?;
            let police_item = ItemRef {
                kind: ItemKind::Dispute as i32,
                id: police_id,
            };
            self.link(
                item.clone(),
                police_item,
                "the station's report of the same dispute",
            )
            .await?;
        }
        if let Some(p) = &d.petition {
            let matter = self.petition(p).await?;
            self.link(
                ItemRef {
                    kind: ItemKind::PetitionMatter as i32,
                    id: matter,
                },
                item.clone(),
                "the petitioners' dispute found by screening",
            )
            .await?;
        }
        let risk = match d.risk {
            4 => dispute::RiskLevel::Major,
            3 => dispute::RiskLevel::High,
            2 => dispute::RiskLevel::Medium,
            _ => dispute::RiskLevel::Low,
        };
        v = self
            .dispute_step(committee, Role::Coordinator, &id, v, S::Assess(risk as i32))
            .await?;
        if d.warn {
            v = self
                .dispute_step(committee, Role::Coordinator, &id, v, S::Warn(true))
                .await?;
        }
        if !d.assign {
            self.dispute_step(
                committee,
                Role::Coordinator,
                &id,
                v,
                S::Close("resolved on the spot by the grid worker".into()),
            )
            .await?;
            return Ok(());
        }
        v = self
            .dispute_step(
                committee,
                Role::Coordinator,
                &id,
                v,
                S::Assign(dispute::Assignment {
                    responsible_unit_id: d.responsible.clone(),
                    territorial_unit_id: d.territory.clone(),
                    due_on: self.date(30),
                }),
            )
            .await?;
        if d.joint {
            self.joint_handling(d, &item).await?;
        }
        v = self
            .dispute_step(
                &d.responsible,
                Role::Handler,
                &id,
                v,
                S::ReportResolution("Agreement reached; payments made; parties signed".into()),
            )
            .await?;
        self.dispute_step(
            committee,
            Role::Coordinator,
            &id,
            v,
            S::VerifyResolution(dispute::Verification {
                accepted: true,
                note: "checked on site".into(),
            }),
        )
        .await?;
        self.order(d.order.as_ref(), &id, ItemKind::Dispute, &d.responsible)
            .await?;
        Ok(())
    }

    /// A joint handling of a major dispute: the town leads, the station and the department join, the
    /// station records its part in its own service, the lead reports and closes.
    async fn joint_handling(&self, d: &DisputePlan, subject: &ItemRef) -> anyhow::Result<()> {
        let u = &self.units;
        let request = pl::OpenJointHandlingRequest {
            request_id: uuid(),
            subject: Some(subject.clone()),
            lead_unit_id: d.territory.clone(),
            co_handlers: vec![
                pl::CoHandler {
                    unit_id: d.station.clone(),
                    role: pl::CoHandlerRole::PoliceStation as i32,
                },
                pl::CoHandler {
                    unit_id: d.responsible.clone(),
                    role: pl::CoHandlerRole::Department as i32,
                },
            ],
        };
        let opened = self
            .committee
            .clone()
            .open_joint_handling(self.as_unit(
                Agency::PoliticalLegal,
                &u.committee,
                &[Role::Coordinator],
                request,
            )?)
            .await
            .context("opening a joint handling")?
            .into_inner();
        let jh = opened.joint_handling_id.clone();

        use ps::act_in_joint_handling_request::Action as Part;
        let mut pv = 0;
        for action in [
            Part::Join(true),
            Part::RecordAction("officers kept order at the site".into()),
            Part::ClosePart("order kept; no incident".into()),
        ] {
            let request = ps::ActInJointHandlingRequest {
                request_id: uuid(),
                joint_handling_id: jh.clone(),
                expected_version: pv,
                action: Some(action),
            };
            pv = self
                .police
                .clone()
                .act_in_joint_handling(self.as_unit(
                    Agency::PublicSecurity,
                    &d.station,
                    &[Role::PoliceOfficer],
                    request,
                )?)
                .await
                .context("the station's part")?
                .into_inner()
                .result
                .map(|r| r.version)
                .unwrap_or_default();
        }

        use pl::act_on_joint_handling_request::Action as J;
        let mut v = opened.result.map(|r| r.version).unwrap_or_default();
        for action in [
            J::SubmitResolutionReport(
                "Joint handling concluded: wages paid, site reopened, parties reconciled".into(),
            ),
            J::Close(true),
        ] {
            let request = pl::ActOnJointHandlingRequest {
                request_id: uuid(),
                joint_handling_id: jh.clone(),
                expected_version: v,
                action: Some(action),
            };
            v = self
                .committee
                .clone()
                .act_on_joint_handling(self.as_unit(
                    Agency::PoliticalLegal,
                    &d.territory,
                    &[Role::Handler],
                    request,
                )?)
                .await
                .with_context(|| format!("joint handling {jh}"))?
                .into_inner()
                .result
                .map(|r| r.version)
                .unwrap_or_default();
        }
        Ok(())
    }

    async fn story(&self, story: &Story) -> anyhow::Result<()> {
        match story {
            Story::Petition(p) => self.petition(p).await.map(|_| ()),
            Story::Dispute(d) => self.dispute(d).await,
            Story::Mediation(m) => self.mediation(m).await,
        }
    }
}

fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A channel to `address`, connected now.
pub async fn connect(address: &str) -> anyhow::Result<Channel> {
    Channel::from_shared(address.to_owned())
        .context("an address like http://127.0.0.1:50051")?
        .connect()
        .await
        .with_context(|| format!("connecting to {address} (is `oneledger up` running?)"))
}

/// A token for `unit` acting with `roles` in `agency`'s system, valid for an hour, signed by the dev
/// issuer a command of ours holds (`up`'s, from its data directory).
pub fn demo_token(
    issuer: &DevIssuer,
    agency: Agency,
    unit: &str,
    roles: &[Role],
) -> anyhow::Result<String> {
    Ok(issuer.token(
        "demo",
        agency,
        unit,
        roles,
        std::time::Duration::from_secs(3600),
    )?)
}

/// The district's units in being today, read page by page from the directory API beside the ledger, as
/// the petition office (every unit may read the directory).
async fn directory_units(args: &DemoArgs, issuer: &DevIssuer) -> anyhow::Result<Units> {
    let office = format!("{}.petition_office", args.district);
    let token = demo_token(issuer, Agency::Petition, &office, &[Role::Viewer])?;
    let listed = list_units(&args.ledger_address, &token, false).await?;
    Units::from_directory(&args.district, &listed)
}

/// Every unit of the district's directory, from the directory API at `address` (those no longer in
/// being too, with `include_inactive`).
pub async fn list_units(
    address: &str,
    token: &str,
    include_inactive: bool,
) -> anyhow::Result<Vec<directory_pb::Unit>> {
    let mut client = DirectoryServiceClient::new(connect(address).await?);
    let mut listed = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = directory_pb::ListUnitsRequest {
            page_token,
            include_inactive,
            ..Default::default()
        };
        let page = client
            .list_units(oneledger_services::auth::authorized(request, token)?)
            .await
            .context("listing the district's units")?
            .into_inner();
        listed.extend(page.units);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(listed)
}

/// Loads the year, waits for the ledger, prints its statistics; fails if they miss the report's figures.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let issuer = args.signing.issuer(&args.district)?;
    let units = directory_units(&args, &issuer).await?;
    // Another year of other people on every load: the same people again would come back as repeats.
    let people_seed = u64::from_le_bytes(
        uuid::Uuid::new_v4().as_bytes()[..8]
            .try_into()
            .context("eight bytes of a UUID")?,
    );
    let stories = plan::year(args.seed, people_seed, args.petitions, &units);
    let caller = Caller {
        issuer,
        petition: PetitionServiceClient::new(connect(&args.petition_address).await?),
        police: PublicSecurityServiceClient::new(connect(&args.public_security_address).await?),
        committee: PoliticalLegalServiceClient::new(connect(&args.political_legal_address).await?),
        units: units.clone(),
        today: legal_date(Utc::now()),
    };
    let mut ledger = LedgerServiceClient::new(connect(&args.ledger_address).await?);
    let today = caller.today;
    let before = statistics(&mut ledger, &caller).await?;

    let planned = plan::figures(&stories);
    if planned != FIGURES.map(|(_, n)| n) {
        bail!(
            "the plan for seed {} misses the report's figures: {planned:?}",
            args.seed
        );
    }
    let total = stories.len();
    let mut clock = DemoClock::connect(&args, &caller).await;
    let weeks = clock.as_ref().map_or(1, DemoClock::weeks);
    eprintln!(
        "loading a year for {}: {total} stories (seed {}, {} petitions){}",
        args.district,
        args.seed,
        args.petitions,
        match &clock {
            Some(c) => format!(", over {weeks} weeks from {} on the demo clock", c.start),
            None =>
                ", today (no demo clock: start `up --demo-clock` to spread it over a year)".into(),
        }
    );
    let started = Instant::now();
    let mut done = 0usize;
    // Week by week: the clock moves a week on, then that week's stories run together.
    for week in 0..weeks {
        let mut caller = caller.clone();
        if let Some(clock) = &mut clock {
            caller.today = clock.set_week(week).await?;
        }
        let from = total * week / weeks;
        let to = total * (week + 1) / weeks;
        let mut runs = futures::stream::iter(stories[from..to].iter().enumerate())
            .map(|(i, story)| {
                let caller = caller.clone();
                async move {
                    caller
                        .story(story)
                        .await
                        .with_context(|| format!("story {}: {story:?}", from + i))
                }
            })
            .buffer_unordered(args.concurrency.max(1));
        while let Some(result) = runs.next().await {
            result?;
            done += 1;
            if done.is_multiple_of(50) || done == total {
                progress(done, total, started.elapsed());
            }
        }
    }
    if let Some(clock) = &mut clock {
        clock.catch_up().await?;
    }
    eprintln!();

    // The ledger catches up on its own: wait until it shows this load (it may hold earlier ones).
    let deadline = Instant::now() + Duration::from_secs(args.wait_seconds);
    let mut last = None;
    let stats = loop {
        let stats = statistics(&mut ledger, &caller).await?;
        let caught_up = FIGURES
            .iter()
            .all(|(name, want)| count(&stats, name) >= count(&before, name) + want);
        // On a demo clock the deadline watcher also has a year of deadlines to look at.
        let watched = clock.is_none()
            || count(&stats, "supervision_proposals") > count(&before, "supervision_proposals");
        if (caught_up && watched && last.as_ref() == Some(&stats)) || Instant::now() > deadline {
            break stats;
        }
        last = Some(stats);
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    print_statistics(&stats, &period(today));

    println!("\nthis load against the annual report's figures:");
    let mut missed = Vec::new();
    for (name, want) in FIGURES {
        let got = count(&stats, name) - count(&before, name);
        let mark = if got == want { "ok" } else { "MISSED" };
        println!("  {name:<30} {got:>6}  (report: {want})  {mark}");
        if got != want {
            missed.push(name);
        }
    }
    if !missed.is_empty() {
        bail!("the ledger does not show the report's figures: {missed:?}");
    }
    Ok(())
}

/// The demo clock of `up --demo-clock`, moved a week at a time from where it stands to today.
struct DemoClock {
    client: DemoClockServiceClient<Channel>,
    token: String,
    /// The first week's day: the first day of the demo's year, or where the clock stood if later.
    start: NaiveDate,
    /// Where the clock stands.
    stands: NaiveDate,
    /// The system's today.
    end: NaiveDate,
}

impl DemoClock {
    /// The demo clock, if the system runs on one that is at least a week behind.
    async fn connect(args: &DemoArgs, caller: &Caller) -> Option<Self> {
        let token = demo_token(
            &caller.issuer,
            Agency::PoliticalLegal,
            &caller.units.committee,
            &[Role::Coordinator],
        )
        .ok()?;
        let channel = connect(&args.demo_clock_address).await.ok()?;
        let mut client = DemoClockServiceClient::new(channel);
        let request =
            oneledger_services::auth::authorized(demo_pb::GetClockRequest {}, &token).ok()?;
        let state = client.get_clock(request).await.ok()?.into_inner();
        let stands = NaiveDate::parse_from_str(&state.today, "%Y-%m-%d").ok()?;
        let end = legal_date(Utc::now());
        let start = period(end).0.max(stands);
        ((end - start).num_days() >= 7).then_some(DemoClock {
            client,
            token,
            start,
            stands,
            end,
        })
    }

    fn weeks(&self) -> usize {
        usize::try_from((self.end - self.start).num_days() / 7)
            .unwrap_or(1)
            .max(1)
    }

    /// Moves the clock to week `week` of the load; its legal date.
    async fn set_week(&mut self, week: usize) -> anyhow::Result<NaiveDate> {
        let day = self.start + Days::new(7 * week as u64);
        if day <= self.stands {
            // The clock is there already (it may be past noon of that day).
            return Ok(self.stands);
        }
        self.stands = self
            .set(demo_pb::SetClockRequest {
                date: day.to_string(),
                catch_up: false,
            })
            .await?;
        Ok(self.stands)
    }

    /// Moves the clock to the system's, where it stays.
    async fn catch_up(&mut self) -> anyhow::Result<NaiveDate> {
        self.set(demo_pb::SetClockRequest {
            date: String::new(),
            catch_up: true,
        })
        .await
    }

    async fn set(&mut self, request: demo_pb::SetClockRequest) -> anyhow::Result<NaiveDate> {
        let request = oneledger_services::auth::authorized(request, &self.token)?;
        let state = self
            .client
            .set_clock(request)
            .await
            .context("moving the demo clock")?
            .into_inner()
            .clock
            .context("the demo clock's answer")?;
        Ok(NaiveDate::parse_from_str(&state.today, "%Y-%m-%d")?)
    }
}

/// The report's figures by their names in the ledger's statistics.
const FIGURES: [(&str, u64); 5] = [
    ("warnings_issued", plan::report::WARNINGS),
    (
        "supervision_orders_issued",
        plan::report::SUPERVISION_ORDERS,
    ),
    ("resolution_reports", plan::report::RESOLUTION_REPORTS),
    ("collective_matters_assigned", plan::report::COLLECTIVE),
    ("priority_matters_assigned", plan::report::PRIORITY),
];

/// The figure of that name (a count; zero for a rate or a name the statistics lack).
fn count(stats: &ledger_pb::GetStatisticsResponse, name: &str) -> u64 {
    figures(stats)
        .into_iter()
        .find(|row| row.name == name)
        .and_then(|row| row.value.count())
        .unwrap_or(0)
}

fn figures(stats: &ledger_pb::GetStatisticsResponse) -> Vec<wire::FigureRow> {
    wire::figure_rows(
        &stats.figures.unwrap_or_default(),
        &stats.rates.unwrap_or_default(),
    )
}

/// The demo's year: the twelve months to `today`.
fn period(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let from = today
        .checked_sub_months(chrono::Months::new(12))
        .and_then(|d| d.succ_opt())
        .unwrap_or(today);
    (from, today)
}

/// The district's statistics for the twelve months to the caller's today.
async fn statistics(
    ledger: &mut LedgerServiceClient<Channel>,
    caller: &Caller,
) -> anyhow::Result<ledger_pb::GetStatisticsResponse> {
    let (from, to) = period(caller.today);
    // A district-wide reader: the committee's coordinator.
    let request = caller.as_unit(
        Agency::PoliticalLegal,
        &caller.units.committee,
        &[Role::Coordinator],
        ledger_pb::GetStatisticsRequest {
            from_date: Some(wire::date(from)),
            to_date: Some(wire::date(to)),
            unit_id: String::new(),
            exclude_imported: false,
        },
    )?;
    Ok(ledger
        .get_statistics(request)
        .await
        .context("reading the ledger's statistics")?
        .into_inner())
}

fn progress(done: usize, total: usize, elapsed: Duration) {
    const WIDTH: usize = 40;
    let filled = done * WIDTH / total.max(1);
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    eprint!(
        "\r[{}{}] {done}/{total} stories, {rate:.0}/s",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled)
    );
    let _ = std::io::stderr().flush();
}

fn print_statistics(stats: &ledger_pb::GetStatisticsResponse, (from, to): &(NaiveDate, NaiveDate)) {
    let year = format!("{from} to {to}");
    println!(
        "repeat petitions for {year} (初信初访 / 重信重访, art. 36 ¶3), and the backlog today:"
    );
    for name in [
        "first_petitions",
        "repeat_petitions",
        "repeat_petitions_merged",
        "repeat_petitions_refused",
        "repeat_petitions_as_new_matters",
        "possible_repeats_undecided",
        "matters_lawfully_concluded",
        "open_repeat_matters",
    ] {
        println!("  {name:<34} {:>6}", count(stats, name));
    }
    for (name, _) in oneledger_domain::statistics::BACKLOG_AGES {
        println!("    {name:<32} {:>6}", count(stats, name));
    }
    println!("ledger statistics for {year}:");
    for row in figures(stats) {
        println!(
            "  {:<36} {:>7}  {}",
            row.name,
            row.value.to_string(),
            row.zh
        );
    }
    println!("  supervision orders, most supervised units:");
    for u in stats.units.iter().take(5) {
        // The count first: a Chinese name's width would push a column after it out of line.
        let unit = u.unit.clone().unwrap_or_default();
        println!(
            "    {:>4}  {} ({})",
            u.supervision_orders, unit.name, unit.unit_id
        );
    }
}
