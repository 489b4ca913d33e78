//! `GetStatistics`: the annual report's figures for a period and a unit, month by month, and one row
//! per unit. Event counts come from the timeline; rates, backlogs and overdue counts from the items'
//! states as of today.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use oneledger_auth::{AuthError, Caller};
use oneledger_domain::statistics::{self, Figure, MatterTally};
use oneledger_domain::{ItemKind, UnitId};
use oneledger_proto::convert::ledger as wire;
use oneledger_proto::ledger::v2 as pb;
use tonic::Status;

use super::{LedgerApi, day_start, invalid, unavailable};
use crate::model::ItemState;

/// Named counts as the domain names them (`warnings_issued`); a name absent is zero.
type Counts = BTreeMap<String, u64>;

/// The figures message from named counts: each field reads the count of its own name, so a figure
/// the domain adds and the contract lacks is a compile-time absence, not a silent drop.
macro_rules! figures {
    ($counts:expr; $($name:ident),+ $(,)?) => {
        pb::Figures { $($name: $counts.get(stringify!($name)).copied().unwrap_or(0),)+ }
    };
}

fn figures_pb(counts: &Counts) -> pb::Figures {
    figures!(counts;
        warnings_issued, supervision_orders_issued, resolution_reports,
        collective_matters_assigned, priority_matters_assigned, disputes_reported, risks_assessed,
        disputes_assigned, resolutions_verified, supervision_escalations, matters_registered,
        matters_accepted, matters_concluded, matters_final, matters_final_unrecorded,
        matters_lawfully_concluded, repeat_petitions_refused, handling_extensions,
        reviews_requested, re_reviews_requested, joint_handlings_opened, supervision_proposals,
        supervision_proposals_issued, supervision_proposals_dismissed, first_petitions,
        repeat_petitions, repeat_petitions_merged, repeat_petitions_as_new_matters,
        possible_repeats_undecided, open_repeat_matters, open_repeat_matters_up_to_90_days,
        open_repeat_matters_91_to_180_days, open_repeat_matters_181_to_365_days,
        open_repeat_matters_over_365_days, matters_overdue, supervision_answers_overdue,
        review_outcomes_upheld, review_outcomes_changed, review_outcomes_revoked,
        re_review_outcomes_upheld, re_review_outcomes_changed, re_review_outcomes_revoked,
    )
}

fn rates_pb(tally: &MatterTally) -> pb::Rates {
    let rates: BTreeMap<&str, f64> = tally.rates().into_iter().collect();
    let get = |name: &str| rates.get(name).copied().unwrap_or(0.0);
    pb::Rates {
        on_time_notice_rate: get("on_time_notice_rate"),
        on_time_handling_rate: get("on_time_handling_rate"),
        extension_rate: get("extension_rate"),
        review_overturn_rate: get("review_overturn_rate"),
        re_review_overturn_rate: get("re_review_overturn_rate"),
    }
}

/// The period asked, checked.
#[derive(Debug, Clone)]
pub(crate) struct Period {
    pub(crate) from: NaiveDate,
    pub(crate) to: NaiveDate,
    pub(crate) unit: Option<String>,
    pub(crate) include_imported: bool,
}

/// The months of a period, each clipped to it.
fn months(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let next = NaiveDate::from_ymd_opt(
            start.year() + i32::from(start.month() == 12),
            start.month() % 12 + 1,
            1,
        );
        let end = next.and_then(|n| n.pred_opt()).map_or(to, |e| e.min(to));
        out.push((start, end));
        match next {
            Some(n) => start = n,
            None => break,
        }
    }
    out
}

/// Longest period a statistics request may cover: ten years of months.
const MAX_PERIOD_DAYS: i64 = 3660;

impl LedgerApi {
    /// Checks a statistics request from `caller`; `field` prefixes the fields an error names (the
    /// request's place in an export).
    pub(crate) fn period(
        &self,
        caller: &Caller,
        req: &pb::GetStatisticsRequest,
        field: &str,
    ) -> Result<Period, Status> {
        let name = |n: &str| format!("{field}{n}");
        let from = wire::required_day(&name("from_date"), req.from_date.as_ref())?;
        let to = wire::required_day(&name("to_date"), req.to_date.as_ref())?;
        if to < from {
            return Err(invalid(&name("to_date"), "not before from_date"));
        }
        if (to - from).num_days() > MAX_PERIOD_DAYS {
            return Err(invalid(&name("to_date"), "a period of at most ten years"));
        }
        let asked = req.unit_id.trim();
        if !asked.is_empty() && self.rules.directory.get(&UnitId::from(asked)).is_none() {
            return Err(invalid(
                &name("unit_id"),
                &format!("`{asked}` is not a unit of the district's directory"),
            ));
        }
        let unit = match (asked.is_empty(), caller.is_district_wide()) {
            (true, true) => None,
            (true, false) => Some(caller.unit.0.clone()),
            (false, true) => Some(asked.to_owned()),
            (false, false) if asked == caller.unit.0 => Some(asked.to_owned()),
            (false, false) => {
                return Err(AuthError::PermissionDenied(
                    "a unit sees only its own statistics".into(),
                )
                .into());
            }
        };
        Ok(Period {
            from,
            to,
            unit,
            include_imported: !req.exclude_imported,
        })
    }

    /// The figures counted from events between two legal days, inclusive.
    async fn event_figures(
        &self,
        p: &Period,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Counts, Status> {
        let (start, end) = (day_start(from), day_start(to.succ_opt().unwrap_or(to)));
        let by_type = self
            .ledger
            .event_counts(&start, &end, p.unit.as_deref(), p.include_imported)
            .await
            .map_err(unavailable)?;
        let mut counts = Counts::new();
        for (event_type, n) in by_type {
            let aggregate_and_name = event_type.split_once('.').map_or("", |(_, rest)| rest);
            if let Some(figure) = Figure::of_event(aggregate_and_name) {
                *counts.entry(figure.as_str().to_owned()).or_default() += n;
            }
        }
        Ok(counts)
    }

    /// The whole response for a checked period.
    pub(crate) async fn statistics(&self, p: &Period) -> Result<pb::GetStatisticsResponse, Status> {
        let mut counts = self.event_figures(p, p.from, p.to).await?;
        let today = self.clock.today();
        let (start, end) = (
            day_start(p.from),
            day_start(p.to.succ_opt().unwrap_or(p.to)),
        );
        let unit = p.unit.as_deref();
        let matters = self
            .ledger
            .items_active(ItemKind::PetitionMatter.as_str(), &start, &end, unit)
            .await
            .map_err(unavailable)?;
        let mut tally = MatterTally::default();
        let mut rows: BTreeMap<UnitId, (MatterTally, pb::UnitFigures)> = BTreeMap::new();
        for item in &matters {
            if let ItemState::PetitionMatter(m) = &item.state {
                let overdue = u64::from(m.is_overdue(&self.rules.calendar, today));
                tally.add(m, &self.rules.calendar, today);
                *counts.entry("matters_overdue".into()).or_default() += overdue;
                if let Some(u) = &m.responsible_unit {
                    let (t, row) = rows.entry(u.clone()).or_default();
                    t.add(m, &self.rules.calendar, today);
                    row.matters += 1;
                    row.matters_overdue += overdue;
                }
            }
        }
        for (prefix, outcomes) in [
            ("review_outcomes", &tally.review_outcomes),
            ("re_review_outcomes", &tally.re_review_outcomes),
        ] {
            for (outcome, n) in outcomes {
                counts.insert(format!("{prefix}_{}", outcome.as_str()), *n);
            }
        }
        self.assigned_figures(&mut counts, (&start, &end), unit)
            .await?;
        counts.extend(
            self.repeat_figures((&start, &end), (p.from, p.to), unit)
                .await?
                .into_iter()
                .map(|(name, n)| (name.to_owned(), n)),
        );
        // Lawfully concluded (依法终结): after re-review, or final by an unused window, recorded or not.
        let lawfully: u64 = [
            Figure::MattersConcluded.as_str(),
            Figure::MattersFinal.as_str(),
            "matters_final_unrecorded",
        ]
        .iter()
        .filter_map(|name| counts.get(*name))
        .sum();
        counts.insert("matters_lawfully_concluded".into(), lawfully);

        let orders = self
            .ledger
            .items_active(ItemKind::SupervisionOrder.as_str(), &start, &end, unit)
            .await
            .map_err(unavailable)?;
        for item in &orders {
            if let ItemState::SupervisionOrder(o) = &item.state {
                let overdue = u64::from(o.is_overdue(&self.rules.calendar, today));
                *counts
                    .entry("supervision_answers_overdue".into())
                    .or_default() += overdue;
                if let Some(to) = &o.to_unit {
                    let (_, row) = rows.entry(to.clone()).or_default();
                    row.supervision_orders += 1;
                    row.supervision_answers_overdue += overdue;
                }
            }
        }
        let mut units: Vec<pb::UnitFigures> = rows
            .into_iter()
            .map(|(id, (t, mut row))| {
                row.unit = Some(super::entry::unit(&self.rules.directory, &id));
                row.rates = Some(rates_pb(&t));
                row
            })
            .collect();
        units.sort_by(|a, b| {
            (b.supervision_orders, b.matters_overdue, b.matters).cmp(&(
                a.supervision_orders,
                a.matters_overdue,
                a.matters,
            ))
        });
        let mut monthly = Vec::new();
        for (from, to) in months(p.from, p.to) {
            let c = self.event_figures(p, from, to).await?;
            let get = |f: Figure| c.get(f.as_str()).copied().unwrap_or(0);
            monthly.push(pb::MonthFigures {
                from_date: Some(wire::date(from)),
                to_date: Some(wire::date(to)),
                matters_registered: get(Figure::MattersRegistered),
                matters_accepted: get(Figure::MattersAccepted),
                matters_concluded: get(Figure::MattersConcluded) + get(Figure::MattersFinal),
                disputes_reported: get(Figure::DisputesReported),
                supervision_orders_issued: get(Figure::SupervisionOrdersIssued),
            });
        }
        Ok(pb::GetStatisticsResponse {
            figures: Some(figures_pb(&counts)),
            rates: Some(rates_pb(&tally)),
            months: monthly,
            units,
        })
    }

    /// Collective and priority matters assigned to a named unit in the period, as the annual report
    /// counts them.
    async fn assigned_figures(
        &self,
        counts: &mut Counts,
        (start, end): (&str, &str),
        unit: Option<&str>,
    ) -> Result<(), Status> {
        let assigned = self
            .ledger
            .items_with_event(&[".matter.assigned", ".dispute.assigned"], start, end, unit)
            .await
            .map_err(unavailable)?;
        let (mut collective, mut priority) = (0u64, 0u64);
        for item in &assigned {
            let (size, risk) = match &item.state {
                ItemState::PetitionMatter(m) => (m.collective_size, None),
                ItemState::Dispute(d) => (d.collective_size, d.risk_level),
                _ => continue,
            };
            collective += u64::from(statistics::is_collective(size));
            priority += u64::from(statistics::is_priority(risk));
        }
        counts.insert("collective_matters_assigned".into(), collective);
        counts.insert("priority_matters_assigned".into(), priority);
        Ok(())
    }

    /// First and repeat petitions registered in the period, matters final by a window that lapsed in
    /// it unrecorded, and today's backlog of open repeat matters by age (清仓见底), on `unit` when given.
    async fn repeat_figures(
        &self,
        (start, end): (&str, &str),
        (from, to): (NaiveDate, NaiveDate),
        unit: Option<&str>,
    ) -> Result<Vec<(&'static str, u64)>, Status> {
        let today = self.clock.today();
        let registered = self
            .ledger
            .items_with_event(&[".matter.registered"], start, end, unit)
            .await
            .map_err(unavailable)?;
        let mut intake = statistics::IntakeTally::default();
        for item in &registered {
            if let ItemState::PetitionMatter(m) = &item.state {
                intake.add(m);
            }
        }
        let open = self
            .ledger
            .open_petition_matters(unit)
            .await
            .map_err(unavailable)?;
        let matters = || {
            open.iter()
                .filter_map(|(item, in_entry)| match &item.state {
                    ItemState::PetitionMatter(m) => Some((m.as_ref(), *in_entry)),
                    _ => None,
                })
        };
        // A repeat matter: a repeat itself, or in an entry the same petitioners came back to.
        let backlog = statistics::repeat_backlog(
            matters()
                .filter(|(m, in_entry)| !m.first_petition || *in_entry > 1)
                .map(|(m, _)| m),
            &self.rules,
            today,
        );
        let lapsed = statistics::lapsed_unrecorded_in(
            matters().map(|(m, _)| m),
            &self.rules,
            (from, to),
            today,
        );
        Ok(intake
            .figures()
            .into_iter()
            .chain(backlog)
            .chain([("matters_final_unrecorded", lapsed)])
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_cut_into_its_months_clipped_to_it() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("a date");
        assert_eq!(
            months(d(2025, 11, 15), d(2026, 1, 10)),
            vec![
                (d(2025, 11, 15), d(2025, 11, 30)),
                (d(2025, 12, 1), d(2025, 12, 31)),
                (d(2026, 1, 1), d(2026, 1, 10)),
            ]
        );
        assert_eq!(
            months(d(2026, 2, 1), d(2026, 2, 1)),
            vec![(d(2026, 2, 1), d(2026, 2, 1))]
        );
    }

    #[test]
    fn every_figure_is_read_by_its_own_name() {
        let counts: Counts = [("warnings_issued", 206), ("re_review_outcomes_revoked", 3)]
            .into_iter()
            .map(|(n, c)| (n.to_owned(), c))
            .collect();
        let f = figures_pb(&counts);
        assert_eq!(f.warnings_issued, 206);
        assert_eq!(f.re_review_outcomes_revoked, 3);
        assert_eq!(f.supervision_orders_issued, 0);
    }
}
