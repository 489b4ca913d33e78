//! Joint handling (联合处置, 三同步): a lead responsible unit with co-handling units — the territorial
//! unit, the police station, the judicial office, the people's tribunal, the procuratorate office,
//! mediation bodies. Opening it informs all of them and the political-legal committee at once, so they
//! screen, handle and report together; tasks with due dates; progress; a resolution report; close.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Command, DomainEvent, Rules};
use crate::clock::legal_date;
use crate::directory::{UnitKind, UnitRequirement};
use crate::error::DomainError;
use crate::ids::{ItemRef, JointHandlingId, UnitId, id_field, text};
use crate::rule::Rule;

/// What a co-handling unit is in the joint handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoHandlerRole {
    /// 属地单位.
    TerritorialUnit,
    /// 派出所.
    PoliceStation,
    /// 司法所.
    JudicialOffice,
    /// 人民法庭.
    PeoplesTribunal,
    /// 检察室.
    ProcuratorateOffice,
    /// 调解组织.
    MediationBody,
    /// Another department.
    Department,
}

impl CoHandlerRole {
    /// The part a unit of `kind` takes when a record names the unit without its part (an imported
    /// ledger's 协同单位): a station as the police station, a sub-district or town as the territorial
    /// unit, any other body as a department.
    pub fn of_kind(kind: UnitKind) -> Self {
        match kind {
            UnitKind::PoliceStation => Self::PoliceStation,
            UnitKind::JudicialOffice => Self::JudicialOffice,
            UnitKind::PeopleTribunal => Self::PeoplesTribunal,
            UnitKind::ProcuratorateOffice => Self::ProcuratorateOffice,
            UnitKind::MediationBody => Self::MediationBody,
            UnitKind::Subdistrict | UnitKind::Town | UnitKind::DevelopmentZone => {
                Self::TerritorialUnit
            }
            _ => Self::Department,
        }
    }
}

/// A task of the joint handling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// The unit doing it.
    pub unit: UnitId,
    /// What, in words.
    pub description: String,
    /// By when.
    pub due_on: NaiveDate,
    /// Done on.
    pub done_on: Option<NaiveDate>,
}

/// A command to a joint handling.
pub type JointCommand = Command<JointAction>;

/// The acts on a joint handling.
#[derive(Debug, Clone, PartialEq)]
pub enum JointAction {
    /// Open it.
    Open {
        /// Id.
        joint_handling_id: JointHandlingId,
        /// The ledger item it handles.
        subject: ItemRef,
        /// The lead responsible unit.
        lead_unit: UnitId,
        /// The co-handling units.
        co_handlers: Vec<(UnitId, CoHandlerRole)>,
        /// The political-legal committee, informed at once.
        political_legal_committee: UnitId,
    },
    /// Add a task.
    AddTask {
        /// Task id.
        task_id: String,
        /// The unit doing it (the lead or a co-handler).
        unit: UnitId,
        /// What.
        description: String,
        /// By when.
        due_on: NaiveDate,
    },
    /// Record progress on a task.
    RecordProgress {
        /// Task id.
        task_id: String,
        /// What happened.
        note: String,
    },
    /// Mark a task done.
    CompleteTask {
        /// Task id.
        task_id: String,
    },
    /// A co-handler closes its part (e.g. the police station after mediation).
    ClosePart,
    /// The lead submits the resolution report.
    SubmitResolutionReport {
        /// What was done.
        summary: String,
    },
    /// The lead closes the joint handling.
    Close,
}

/// Everything that happens to a joint handling.
///
/// Every variant's `at` is the instant its step was recorded; its legal (Beijing) date is the day periods
/// count from.
#[allow(missing_docs)] // `at`, the one field documented above rather than on each variant
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JointEvent {
    /// Opened; `informed` lists every unit told at once.
    Opened {
        at: DateTime<Utc>,
        /// Id.
        joint_handling_id: JointHandlingId,
        /// Subject.
        subject: ItemRef,
        /// Lead.
        lead_unit: UnitId,
        /// Co-handlers.
        co_handlers: Vec<(UnitId, CoHandlerRole)>,
        /// Every unit informed at opening: the lead, each co-handler and the political-legal committee.
        informed: Vec<UnitId>,
    },
    /// Task added.
    TaskAdded {
        at: DateTime<Utc>,
        /// Task id.
        task_id: String,
        /// Unit.
        unit: UnitId,
        /// What.
        description: String,
        /// By when.
        due_on: NaiveDate,
    },
    /// Progress recorded.
    ProgressRecorded {
        at: DateTime<Utc>,
        /// Task id.
        task_id: String,
        /// By.
        by: UnitId,
        /// Note.
        note: String,
    },
    /// Task completed.
    TaskCompleted {
        at: DateTime<Utc>,
        /// Task id.
        task_id: String,
    },
    /// A co-handler closed its part.
    PartClosed {
        at: DateTime<Utc>,
        /// The unit.
        unit: UnitId,
    },
    /// Resolution report submitted.
    ResolutionReportSubmitted {
        at: DateTime<Utc>,
        /// Summary.
        summary: String,
    },
    /// Closed.
    Closed { at: DateTime<Utc> },
}

impl DomainEvent for JointEvent {
    const AGGREGATE: &'static str = "joint_handling";

    fn name(&self) -> &'static str {
        match self {
            JointEvent::Opened { .. } => "opened",
            JointEvent::TaskAdded { .. } => "task_added",
            JointEvent::ProgressRecorded { .. } => "progress_recorded",
            JointEvent::TaskCompleted { .. } => "task_completed",
            JointEvent::PartClosed { .. } => "part_closed",
            JointEvent::ResolutionReportSubmitted { .. } => "resolution_report_submitted",
            JointEvent::Closed { .. } => "closed",
        }
    }
}

/// The state of a joint handling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JointHandling {
    /// Id (none until opened).
    pub joint_handling_id: Option<JointHandlingId>,
    /// Subject.
    pub subject: Option<ItemRef>,
    /// Lead.
    pub lead_unit: Option<UnitId>,
    /// Co-handlers.
    pub co_handlers: BTreeMap<UnitId, CoHandlerRole>,
    /// Co-handlers that closed their part.
    pub parts_closed: BTreeSet<UnitId>,
    /// Tasks by id.
    pub tasks: BTreeMap<String, Task>,
    /// Resolution report submitted.
    pub reported: bool,
    /// Closed.
    pub closed: bool,
}

impl JointHandling {
    fn stage(&self) -> &'static str {
        match (self.joint_handling_id.is_some(), self.reported, self.closed) {
            (false, _, _) => "unopened",
            (_, _, true) => "closed",
            (_, true, _) => "reported",
            _ => "open",
        }
    }

    fn refuse(&self, reason: impl Into<String>) -> DomainError {
        DomainError::refused(Rule::JointHandling, self.stage(), reason)
    }

    fn is_member(&self, unit: &UnitId) -> bool {
        self.lead_unit.as_ref() == Some(unit) || self.co_handlers.contains_key(unit)
    }

    /// Opens the joint handling, informing the lead, every co-handler and the political-legal committee at
    /// once (三同步).
    fn open(
        &self,
        at: DateTime<Utc>,
        joint_handling_id: &JointHandlingId,
        subject: &ItemRef,
        lead_unit: &UnitId,
        co_handlers: &[(UnitId, CoHandlerRole)],
        political_legal_committee: &UnitId,
    ) -> Result<JointEvent, DomainError> {
        if self.joint_handling_id.is_some() {
            return Err(self.refuse("already opened"));
        }
        id_field("joint_handling_id", joint_handling_id.as_str())?;

        if co_handlers.is_empty() {
            return Err(DomainError::invalid(
                "co_handlers",
                "a joint handling has at least one co-handling unit",
            ));
        }
        let mut informed = vec![lead_unit.clone()];
        for (u, _) in co_handlers {
            if informed.contains(u) {
                return Err(DomainError::invalid(
                    "co_handlers",
                    format!("{u} appears twice or is the lead"),
                ));
            }
            informed.push(u.clone());
        }
        if !informed.contains(political_legal_committee) {
            informed.push(political_legal_committee.clone());
        }
        Ok(JointEvent::Opened {
            at,
            joint_handling_id: joint_handling_id.clone(),
            subject: subject.clone(),
            lead_unit: lead_unit.clone(),
            co_handlers: co_handlers.to_vec(),
            informed,
        })
    }

    /// The lead adds a task for itself or a co-handler, due after today.
    fn add_task(
        &self,
        at: DateTime<Utc>,
        unit: &UnitId,
        task_id: &str,
        doer: &UnitId,
        description: &str,
        due_on: NaiveDate,
    ) -> Result<JointEvent, DomainError> {
        if self.lead_unit.as_ref() != Some(unit) {
            return Err(DomainError::NotAuthorized {
                unit: unit.clone(),
                action: "add tasks (the lead does)",
            });
        }
        id_field("task_id", task_id)?;
        text("description", description, 1000)?;
        if self.tasks.contains_key(task_id) {
            return Err(DomainError::invalid("task_id", "already exists"));
        }
        if !self.is_member(doer) {
            return Err(DomainError::invalid(
                "unit",
                format!("{doer} is not part of this joint handling"),
            ));
        }
        let set_on = legal_date(at);
        if due_on <= set_on {
            return Err(DomainError::invalid(
                "due_on",
                format!("{due_on} must be after the day the task is set ({set_on})"),
            ));
        }
        Ok(JointEvent::TaskAdded {
            at,
            task_id: task_id.to_owned(),
            unit: doer.clone(),
            description: description.to_owned(),
            due_on,
        })
    }
}

impl Aggregate for JointHandling {
    type Action = JointAction;
    type Event = JointEvent;

    fn decide(
        &self,
        command: &JointCommand,
        rules: &Rules,
    ) -> Result<Vec<JointEvent>, DomainError> {
        let at = command.at;
        let unit = &command.unit;
        use JointAction as A;
        if !matches!(command.action, A::Open { .. }) {
            if self.joint_handling_id.is_none() {
                return Err(self.refuse("the joint handling is not opened"));
            }
            if self.closed {
                return Err(self.refuse("the joint handling is closed"));
            }
        }
        Ok(vec![match &command.action {
            A::Open {
                joint_handling_id,
                subject,
                lead_unit,
                co_handlers,
                political_legal_committee,
            } => {
                let today = legal_date(at);
                let directory = &rules.directory;
                directory.require("lead_unit", lead_unit, today, UnitRequirement::Any)?;
                for (co_handler, _) in co_handlers {
                    directory.require("co_handlers", co_handler, today, UnitRequirement::Any)?;
                }
                self.open(
                    at,
                    joint_handling_id,
                    subject,
                    lead_unit,
                    co_handlers,
                    political_legal_committee,
                )?
            }
            A::AddTask {
                task_id,
                unit: doer,
                description,
                due_on,
            } => self.add_task(at, unit, task_id, doer, description, *due_on)?,
            A::RecordProgress { task_id, note } => {
                let Some(task) = self.tasks.get(task_id) else {
                    return Err(DomainError::invalid(
                        "task_id",
                        format!("no task {task_id}"),
                    ));
                };
                if &task.unit != unit && self.lead_unit.as_ref() != Some(unit) {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "record progress on another unit's task",
                    });
                }
                text("note", note, 2000)?;
                JointEvent::ProgressRecorded {
                    at,
                    task_id: task_id.clone(),
                    by: unit.clone(),
                    note: note.clone(),
                }
            }
            A::CompleteTask { task_id } => {
                let Some(task) = self.tasks.get(task_id) else {
                    return Err(DomainError::invalid(
                        "task_id",
                        format!("no task {task_id}"),
                    ));
                };
                if &task.unit != unit && self.lead_unit.as_ref() != Some(unit) {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "complete another unit's task",
                    });
                }
                if task.done_on.is_some() {
                    return Err(self.refuse(format!("task {task_id} is already done")));
                }
                JointEvent::TaskCompleted {
                    at,
                    task_id: task_id.clone(),
                }
            }
            A::ClosePart => {
                if !self.co_handlers.contains_key(unit) {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "close a part (co-handlers do)",
                    });
                }
                if self.parts_closed.contains(unit) {
                    return Err(self.refuse(format!("{unit} already closed its part")));
                }
                let open_tasks = self
                    .tasks
                    .values()
                    .any(|t| &t.unit == unit && t.done_on.is_none());
                if open_tasks {
                    return Err(self.refuse(format!("{unit} still has open tasks")));
                }
                JointEvent::PartClosed {
                    at,
                    unit: unit.clone(),
                }
            }
            A::SubmitResolutionReport { summary } => {
                if self.lead_unit.as_ref() != Some(unit) {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "submit the resolution report (the lead does)",
                    });
                }
                text("summary", summary, 4000)?;
                JointEvent::ResolutionReportSubmitted {
                    at,
                    summary: summary.clone(),
                }
            }
            A::Close => {
                if self.lead_unit.as_ref() != Some(unit) {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "close the joint handling (the lead does)",
                    });
                }
                if !self.reported {
                    return Err(self.refuse("a joint handling closes after its resolution report"));
                }
                JointEvent::Closed { at }
            }
        }])
    }

    fn evolve(mut self, event: &JointEvent) -> Self {
        match event {
            JointEvent::Opened {
                joint_handling_id,
                subject,
                lead_unit,
                co_handlers,
                ..
            } => {
                self.joint_handling_id = Some(joint_handling_id.clone());
                self.subject = Some(subject.clone());
                self.lead_unit = Some(lead_unit.clone());
                self.co_handlers = co_handlers.iter().cloned().collect();
            }
            JointEvent::TaskAdded {
                task_id,
                unit,
                description,
                due_on,
                ..
            } => {
                self.tasks.insert(
                    task_id.clone(),
                    Task {
                        unit: unit.clone(),
                        description: description.clone(),
                        due_on: *due_on,
                        done_on: None,
                    },
                );
            }
            JointEvent::ProgressRecorded { .. } => {}
            JointEvent::TaskCompleted { at, task_id } => {
                if let Some(t) = self.tasks.get_mut(task_id) {
                    t.done_on = Some(legal_date(*at));
                }
            }
            JointEvent::PartClosed { unit, .. } => {
                self.parts_closed.insert(unit.clone());
            }
            JointEvent::ResolutionReportSubmitted { .. } => self.reported = true,
            JointEvent::Closed { .. } => self.closed = true,
        }
        self
    }
}

#[cfg(test)]
mod tests;
