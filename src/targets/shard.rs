//! Splitting one sweep across N cooperating scanners.
//!
//! Every scanner builds the same target set and permutation from the same
//! seed, and shard `I/N` takes the permutation positions `p` with
//! `p % N == I`. The shards are therefore disjoint and together cover the whole
//! set, need no coordination beyond the seed, and because positions (not
//! addresses) are dealt out, each shard is still spread over the whole space.

use std::fmt;
use std::str::FromStr;

use super::TargetError;

/// One part of a sweep split `count` ways: the permutation positions
/// `p` with `p % count == index`.
///
/// Parsed from `"I/N"` as written on the command line (`--shard 2/8`).
/// A hand-built value with `count == 0` or `index >= count` is rejected by
/// [`TargetStream::new`](super::TargetStream::new).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    /// Which part this is, `0..count`.
    pub index: u64,
    /// Into how many parts the sweep is split, at least 1.
    pub count: u64,
}

impl Shard {
    /// The whole sweep in one part.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Checks `index < count` and `count ≥ 1`.
    pub fn new(index: u64, count: u64) -> Result<Self, TargetError> {
        let shard = Shard { index, count };
        shard.validate()?;
        Ok(shard)
    }

    pub(super) fn validate(self) -> Result<(), TargetError> {
        let reason = if self.count == 0 {
            "there must be at least 1 shard: use e.g. 0/1 for the whole sweep".to_owned()
        } else if self.index >= self.count {
            format!(
                "the index must be 0..{} for {} shard{}",
                self.count - 1,
                self.count,
                if self.count == 1 { "" } else { "s" }
            )
        } else {
            return Ok(());
        };
        Err(TargetError::InvalidShard {
            input: self.to_string(),
            reason,
        })
    }

    /// Number of positions of `[0, n)` that belong to this shard.
    pub fn positions_in(self, n: u64) -> u64 {
        match n.checked_sub(self.index) {
            None | Some(0) => 0,
            // Positions index, index + count, … up to n - 1; count ≥ 1 is
            // checked by the caller, and a zero count owns nothing.
            Some(from_index) => match (from_index - 1).checked_div(self.count) {
                Some(further) => further + 1,
                None => 0,
            },
        }
    }
}

impl Default for Shard {
    fn default() -> Self {
        Self::ALL
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = TargetError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let text = input.trim();
        let invalid = |reason: &str| TargetError::InvalidShard {
            input: text.to_owned(),
            reason: reason.to_owned(),
        };
        let Some((index_text, count_text)) = text.split_once('/') else {
            return Err(invalid(
                "expected INDEX/COUNT, e.g. 0/4 for the first of 4 shards",
            ));
        };
        let number = |digits: &str| -> Result<u64, TargetError> {
            if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(invalid(
                    "expected INDEX/COUNT with whole numbers, e.g. 0/4 for the first of 4 shards",
                ));
            }
            digits
                .parse()
                .map_err(|_| invalid("the numbers must be at most 18446744073709551615"))
        };
        let index = number(index_text)?;
        let count = number(count_text)?;
        Shard::new(index, count).map_err(|error| match error {
            // Report what the user typed, not the re-formatted value.
            TargetError::InvalidShard { reason, .. } => TargetError::InvalidShard {
                input: text.to_owned(),
                reason,
            },
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_index_over_count() {
        let cases = [
            ("0/1", Shard::ALL),
            ("2/3", Shard { index: 2, count: 3 }),
            (" 7/8 ", Shard { index: 7, count: 8 }),
            ("00/01", Shard::ALL),
            (
                "18446744073709551614/18446744073709551615",
                Shard {
                    index: u64::MAX - 1,
                    count: u64::MAX,
                },
            ),
        ];
        for (input, expected) in cases {
            let parsed = input.parse::<Shard>();
            assert_eq!(parsed.ok(), Some(expected), "{input:?}");
        }
        assert_eq!(Shard::default(), Shard::ALL);
        assert_eq!(Shard { index: 2, count: 3 }.to_string(), "2/3");
    }

    #[test]
    fn rejects_bad_shards_naming_the_input_and_the_fix() {
        let cases = [
            (
                "3/3",
                "invalid shard \"3/3\": the index must be 0..2 for 3 shards",
            ),
            (
                "1/1",
                "invalid shard \"1/1\": the index must be 0..0 for 1 shard",
            ),
            (
                "0/0",
                "invalid shard \"0/0\": there must be at least 1 shard",
            ),
            (
                " 5/0",
                "invalid shard \"5/0\": there must be at least 1 shard",
            ),
            ("1", "invalid shard \"1\": expected INDEX/COUNT, e.g. 0/4"),
            ("", "invalid shard \"\": expected INDEX/COUNT"),
            (
                "a/3",
                "invalid shard \"a/3\": expected INDEX/COUNT with whole numbers",
            ),
            (
                "-1/3",
                "invalid shard \"-1/3\": expected INDEX/COUNT with whole numbers",
            ),
            (
                "+1/3",
                "invalid shard \"+1/3\": expected INDEX/COUNT with whole",
            ),
            (
                "1/",
                "invalid shard \"1/\": expected INDEX/COUNT with whole",
            ),
            (
                "1/2/3",
                "invalid shard \"1/2/3\": expected INDEX/COUNT with whole",
            ),
            (
                "0/99999999999999999999",
                "\"0/99999999999999999999\": the numbers must be at most",
            ),
        ];
        for (input, expected_start) in cases {
            let message = match input.parse::<Shard>() {
                Ok(shard) => panic!("{input:?} was accepted as {shard}"),
                Err(error) => error.to_string(),
            };
            assert!(
                message.contains(expected_start),
                "{input:?} gave {message:?}, expected it to contain {expected_start:?}"
            );
        }
    }

    #[test]
    fn counts_its_positions() {
        let third = |index| Shard { index, count: 3 };
        assert_eq!(third(0).positions_in(10), 4); // 0 3 6 9
        assert_eq!(third(1).positions_in(10), 3); // 1 4 7
        assert_eq!(third(2).positions_in(10), 3); // 2 5 8
        assert_eq!(third(2).positions_in(2), 0);
        assert_eq!(third(0).positions_in(0), 0);
        assert_eq!(Shard::ALL.positions_in(u64::MAX), u64::MAX);
        let last_of_max = Shard {
            index: u64::MAX - 1,
            count: u64::MAX,
        };
        assert_eq!(last_of_max.positions_in(u64::MAX), 1);
        assert_eq!(Shard { index: 0, count: 0 }.positions_in(10), 0);
    }
}
