//! Which addresses a sweep visits, and in what order.
//!
//! A sweep starts from whatever the user typed or listed in files (single
//! addresses, CIDR prefixes, overlapping and duplicated), and must visit every
//! distinct address exactly once, in an order that never hammers one /24 (or
//! the one nameserver behind it) with a burst of consecutive queries, split
//! across independent machines and resumable after an interruption. All of
//! that is pure arithmetic, kept here apart from the DNS engine:
//!
//! - [`parse_target`] and [`read_targets`] turn text into networks, with
//!   errors that name the bad input and say how to fix it;
//! - [`TargetSet`] merges the networks into disjoint ranges without ever
//!   expanding a prefix into a list of addresses;
//! - [`Permutation`] is a seeded bijection on `[0, n)` that scatters adjacent
//!   positions across the whole space (zmap-style);
//! - [`Shard`] picks the positions one of N cooperating scanners owns;
//! - [`TargetStream`] ties them together into a lazy iterator of addresses.

pub mod domains;
mod parse;
mod permutation;
mod set;
mod shard;
mod stream;

#[cfg(test)]
mod tests;

pub use parse::{parse_target, read_targets};
pub use permutation::Permutation;
pub use set::TargetSet;
pub use shard::Shard;
pub use stream::{Positioned, TargetStream};

/// Everything that can go wrong while turning user input into a target stream.
///
/// Every message is one line that names the offending input and says what
/// would be accepted instead, because it is shown to the user as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The input was empty (or only whitespace).
    #[error(
        "empty target: expected an IP address or CIDR prefix such as 192.0.2.1, 198.51.100.0/24 or 2001:db8::/120"
    )]
    Empty,

    /// The input looks like neither an IPv4 nor an IPv6 address.
    #[error(
        "{input:?} is not an IP address or CIDR prefix (expected e.g. 192.0.2.1, 198.51.100.0/24 or 2001:db8::/120)"
    )]
    NotATarget { input: String },

    /// The input looks like an address of one family but is malformed;
    /// `reason` says what is wrong and how to write it instead.
    #[error("invalid address {input:?}: {reason}")]
    InvalidAddress { input: String, reason: &'static str },

    /// The part after `/` is missing, not a number, or too long for the family.
    #[error("invalid prefix length in {input:?}: {reason}")]
    InvalidPrefixLength { input: String, reason: &'static str },

    /// A line of a target list failed to parse. `origin` is the list's name as
    /// given to [`read_targets`] (thiserror would take a field called `source`
    /// for the underlying error, which a file name is not).
    #[error("{origin}:{line}: {error}")]
    AtLine {
        origin: String,
        line: u64,
        error: Box<TargetError>,
    },

    /// Reading a target list failed; `origin` names the list. The I/O error is
    /// part of the message rather than an error `source()`, so that printing
    /// the error chain does not repeat it.
    #[error("cannot read target list {origin}: {error}")]
    Read {
        origin: String,
        error: std::io::Error,
    },

    /// A `--shard` value is not `INDEX/COUNT` with `INDEX < COUNT`.
    #[error("invalid shard {input:?}: {reason}")]
    InvalidShard { input: String, reason: String },

    /// The set has more addresses than a stream can number with a `u64`.
    /// `count` is [`TargetSet::len`], saturated at `u128::MAX` only when the
    /// set holds all of IPv6.
    #[error(
        "the targets cover {} addresses, more than the 2^64-1 one sweep can enumerate: scan smaller prefixes (an IPv6 /64 alone is already 2^64 addresses)",
        describe_count(.count)
    )]
    TooManyAddresses { count: u128 },
}

/// `u128::MAX` stands for "all of IPv6 and possibly more", which is not the
/// same as that exact number.
fn describe_count(count: &u128) -> String {
    if *count == u128::MAX {
        "2^128 or more".to_owned()
    } else {
        count.to_string()
    }
}
