//! Acceptance (受理): the responsible unit accepts a received matter by its legal class — suggestion
//! (art. 29), accusation (art. 30, referred to discipline inspection) or claim with one of six routes
//! (art. 31; routes 1–5 channel it into another procedure) — or declines it, naming the competent channel
//! (art. 28).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Decision, MAX_REASON_CHARS, MatterEvent, PetitionMatter, Stage, Step};
use crate::clock::{DeadlineKind, legal_date};
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::{UnitId, text};
use crate::rule::Rule;

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

impl PetitionMatter {
    /// Accepts with the claim's class and, for a claim, its route; an accusation names its accused unit.
    pub(super) fn accept(
        &self,
        step: Step<'_>,
        class: ClaimClass,
        route: Option<ClaimRoute>,
        channel: Option<&String>,
        accused_unit: Option<&UnitId>,
    ) -> Decision {
        self.require_stage(&[Stage::Received], "acceptance", Rule::Art28)?;
        DomainError::require_unit(
            step.unit,
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
        if class == ClaimClass::Accusation && accused_unit.is_none() && self.accused_unit.is_none()
        {
            return Err(DomainError::invalid(
                "accused_unit",
                "an accusation names the accused unit (art. 30)",
            ));
        }
        if let Some(accused) = accused_unit {
            step.unit("accused_unit", accused, UnitRequirement::Any)?;
        }
        if class != ClaimClass::Accusation && accused_unit.is_some() {
            return Err(DomainError::invalid(
                "accused_unit",
                "only an accusation names an accused unit",
            ));
        }
        let at = step.at;
        let mut events = vec![MatterEvent::Accepted {
            at,
            class,
            route,
            accused_unit: accused_unit.cloned().or_else(|| self.accused_unit.clone()),
        }];
        match (class, route) {
            (ClaimClass::Accusation, _) => events.push(MatterEvent::ReferredToDiscipline { at }),
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
                    route: r,
                    channel: channel.clone(),
                });
            }
            _ => {}
        }
        Ok(events)
    }

    /// Declines (不予受理), naming where the petitioner should turn.
    pub(super) fn not_accept(
        &self,
        step: Step<'_>,
        reason: &str,
        competent_channel: &str,
    ) -> Decision {
        self.require_stage(&[Stage::Received], "non-acceptance", Rule::Art28)?;
        DomainError::require_unit(
            step.unit,
            &self.responsible_unit,
            "decline a matter not routed to it",
        )?;
        text("reason", reason, MAX_REASON_CHARS)?;
        text("competent_channel", competent_channel, MAX_REASON_CHARS)?;
        Ok(vec![MatterEvent::NotAccepted {
            at: step.at,
            reason: reason.to_owned(),
            competent_channel: competent_channel.to_owned(),
        }])
    }

    pub(super) fn accepted(
        &mut self,
        at: DateTime<Utc>,
        class: ClaimClass,
        route: Option<ClaimRoute>,
        accused_unit: &Option<UnitId>,
    ) {
        self.class = Some(class);
        self.route = route;
        self.accused_unit = accused_unit.clone();
        self.stage = Stage::Handling;
        self.meet_clock(DeadlineKind::RoutingObjection, legal_date(at));
        if route == Some(ClaimRoute::PetitionRoute) {
            self.start_clock(DeadlineKind::Handling, legal_date(at));
        }
    }

    pub(super) fn not_accepted(&mut self, at: DateTime<Utc>) {
        self.stage = Stage::NotAccepted;
        self.meet_clock(DeadlineKind::RoutingObjection, legal_date(at));
    }
}
