//! The rules the domain enforces, each with its citation. A refusal carries one ([`crate::DomainError`]),
//! so `grep Rule::Art35` finds every place article 35 is enforced, and the citation text is written once.

use std::fmt;

/// A rule of procedure: an article of the 2022 Regulations on Letters and Visits (信访工作条例), or one of
/// the project's own rules where the Regulations are silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Art. 22: the petition office registers, then forwards (转送) or assigns (交办) within 15 days.
    Art22,
    /// Art. 23: the receiving unit tells the petitioner in writing within 15 days that it received the
    /// matter, and how it will be handled.
    Art23,
    /// Art. 23 ¶3: a unit that is not competent objects within 5 working days of receipt.
    Art23P3,
    /// Art. 28: the responsible unit accepts (受理) or declines by the claim's legal class.
    Art28,
    /// Art. 29: suggestions (建议意见) are answered.
    Art29,
    /// Art. 30: accusations (检举控告) go to discipline inspection and are never shown to the accused.
    Art30,
    /// Art. 31: claims (申诉求决) take one of six routes.
    Art31,
    /// Art. 32: a claim on the petition route is answered by a written handling opinion.
    Art32,
    /// Art. 33: mediation and settlement agreements.
    Art33,
    /// Art. 34: handling within 60 days of acceptance, extended once by at most 30 with approval.
    Art34,
    /// Art. 35: review (复查) asked within 30 days of the reply, decided within 30 days.
    Art35,
    /// Art. 36: re-review (复核) asked within 30 days of the review reply, decided within 30 days.
    Art36,
    /// Art. 36 ¶2: a hearing (听证) during re-review stops its clock.
    Art36P2,
    /// Art. 36 ¶3: after re-review, or a lapsed window, the same facts are not accepted again (不再受理).
    Art36P3,
    /// Arts. 39–40: supervision orders (督办函) and their escalation.
    Arts39To40,
    /// Linked items form one matter with one root, never a tree.
    OneRoot,
    /// The steps of a dispute, from screening to verified resolution, in order.
    DisputeProcedure,
    /// Joint handling (三同步): the lead unit and its co-handling units screen, handle and report together.
    JointHandling,
    /// An assignment for resolution carries the due date its assigner set.
    Assignment,
    /// A warning follows a risk assessment of at least medium risk.
    RiskAssessment,
}

impl Rule {
    /// The citation, as people write it: `art. 23 ¶3`, `one root`.
    pub fn citation(self) -> &'static str {
        match self {
            Rule::Art22 => "art. 22",
            Rule::Art23 => "art. 23",
            Rule::Art23P3 => "art. 23 ¶3",
            Rule::Art28 => "art. 28",
            Rule::Art29 => "art. 29",
            Rule::Art30 => "art. 30",
            Rule::Art31 => "art. 31",
            Rule::Art32 => "art. 32",
            Rule::Art33 => "art. 33",
            Rule::Art34 => "art. 34",
            Rule::Art35 => "art. 35",
            Rule::Art36 => "art. 36",
            Rule::Art36P2 => "art. 36 ¶2",
            Rule::Art36P3 => "art. 36 ¶3",
            Rule::Arts39To40 => "arts. 39–40",
            Rule::OneRoot => "one root",
            Rule::DisputeProcedure => "dispute procedure",
            Rule::JointHandling => "joint handling",
            Rule::Assignment => "assignment",
            Rule::RiskAssessment => "risk assessment",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.citation())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_displays_as_its_citation() {
        assert_eq!(Rule::Art23P3.to_string(), "art. 23 ¶3");
        assert_eq!(Rule::Arts39To40.to_string(), "arts. 39–40");
        assert_eq!(Rule::OneRoot.to_string(), "one root");
    }
}
