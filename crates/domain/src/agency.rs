//! The agencies that take part in the district ledger.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An agency that runs its own service, event store and event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agency {
    /// 信访办: the petition office.
    Petition,
    /// 公安: public security, i.e. the police and its stations.
    PublicSecurity,
    /// 政法委: the political-legal committee.
    PoliticalLegal,
}

impl Agency {
    /// Every agency, in a fixed order.
    pub const ALL: [Agency; 3] = [
        Agency::Petition,
        Agency::PublicSecurity,
        Agency::PoliticalLegal,
    ];

    /// The token that names the agency in event subjects, types and sources (`public_security`).
    pub fn token(self) -> &'static str {
        match self {
            Agency::Petition => "petition",
            Agency::PublicSecurity => "public_security",
            Agency::PoliticalLegal => "political_legal",
        }
    }

    /// The prefix of the ids of items the agency mints where two agencies keep items of one kind (disputes):
    /// the police's dispute `PS-XG-2026-0001` and the committee's `PL-XG-2026-0001` are two items, joined
    /// only by a link a coordinator decides.
    pub fn id_namespace(self) -> &'static str {
        match self {
            Agency::Petition => "PT",
            Agency::PublicSecurity => "PS",
            Agency::PoliticalLegal => "PL",
        }
    }
}

impl fmt::Display for Agency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// A string that names no agency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown agency {0:?}: expected petition, public_security or political_legal")]
pub struct UnknownAgency(pub String);

impl FromStr for Agency {
    type Err = UnknownAgency;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Agency::ALL
            .into_iter()
            .find(|a| a.token() == s)
            .ok_or_else(|| UnknownAgency(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for agency in Agency::ALL {
            assert_eq!(agency.token().parse::<Agency>(), Ok(agency));
        }
        assert!("police".parse::<Agency>().is_err());
    }
}
