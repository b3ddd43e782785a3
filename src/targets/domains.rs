//! Domains for `mx` mode: normalised to lower-case A-labels (IDNA/UTS 46),
//! de-duplicated case-insensitively, and split across shards by a stable
//! hash of the name. A malformed domain is kept as an input with its
//! reason, so it becomes an `error` row instead of aborting the run.

use std::collections::HashSet;
use std::io::BufRead;

use super::{Shard, TargetError};
use crate::fnv::Fnv1a;
use crate::wire::WireName;

/// One line of domain input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainInput {
    /// A-label form, lower case, no trailing dot.
    Valid(String),
    /// What the user wrote and why it is not a domain.
    Invalid { input: String, reason: String },
}

impl DomainInput {
    /// The text a row shows in its `domain` column.
    pub fn text(&self) -> &str {
        match self {
            DomainInput::Valid(name) => name,
            DomainInput::Invalid { input, .. } => input,
        }
    }
}

/// Normalises one domain: trims, drops one trailing dot, converts an IDN to
/// its A-label (`bücher.example` → `xn--bcher-kva.example`), lower-cases,
/// and checks DNS length limits.
pub fn normalize_domain(input: &str) -> DomainInput {
    let text = input.trim();
    let invalid = |reason: String| DomainInput::Invalid {
        input: text.to_owned(),
        reason,
    };
    let bare = text.strip_suffix('.').unwrap_or(text);
    if bare.is_empty() {
        return invalid("empty domain".into());
    }
    if bare.starts_with('.') || bare.contains("..") {
        return invalid("empty label (two dots in a row)".into());
    }
    let ascii = match idna::domain_to_ascii(bare) {
        Ok(ascii) => ascii,
        Err(_) => return invalid("not a valid domain name (IDNA conversion failed)".into()),
    };
    if let Some(label) = ascii.split('.').find(|label| label.len() > 63) {
        return invalid(format!(
            "label {label:?} is longer than 63 characters (RFC 1035)"
        ));
    }
    if ascii.split('.').any(|label| {
        !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return invalid("only letters, digits, '-' and '_' may appear in a label".into());
    }
    if WireName::from_ascii(&ascii).is_err() {
        return invalid("longer than 253 characters (RFC 1035)".into());
    }
    DomainInput::Valid(ascii)
}

/// Whether `shard` owns this domain. The shards partition any list exactly,
/// and FNV-1a is the same everywhere, so every machine of a sharded run puts
/// a domain in the same shard.
pub fn in_shard(domain: &DomainInput, shard: Shard) -> bool {
    shard.count <= 1 || Fnv1a::of(domain.text().as_bytes()) % shard.count == shard.index
}

/// Collects domains in input order, without duplicates (by A-label; invalid
/// inputs by their text), keeping those of `shard`.
#[derive(Debug)]
pub struct DomainList {
    seen: HashSet<u64>,
    shard: Shard,
    pub domains: Vec<DomainInput>,
    pub duplicates: u64,
}

impl DomainList {
    pub fn new(shard: Shard) -> Self {
        DomainList {
            seen: HashSet::new(),
            shard,
            domains: Vec::new(),
            duplicates: 0,
        }
    }

    pub fn push(&mut self, text: &str) {
        let domain = normalize_domain(text);
        // A 64-bit hash per domain instead of the name: a 10-million-domain
        // list costs ~160 MiB less, and a collision needs ~4 billion names.
        if !self.seen.insert(Fnv1a::of(domain.text().as_bytes())) {
            self.duplicates += 1;
            return;
        }
        if in_shard(&domain, self.shard) {
            self.domains.push(domain);
        }
    }

    /// Reads one domain per line; `#` starts a comment, blank lines are skipped.
    pub fn read(&mut self, reader: impl BufRead, origin: &str) -> Result<(), TargetError> {
        for line in reader.split(b'\n') {
            let bytes = line.map_err(|error| TargetError::Read {
                origin: origin.to_owned(),
                error,
            })?;
            let text = String::from_utf8_lossy(&bytes);
            let text = text.trim_start_matches('\u{feff}');
            let content = text.split_once('#').map_or(text, |(before, _)| before);
            if !content.trim().is_empty() {
                self.push(content);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn valid(text: &str) -> String {
        match normalize_domain(text) {
            DomainInput::Valid(name) => name,
            other => panic!("{text:?} should be valid: {other:?}"),
        }
    }

    fn reason(text: &str) -> String {
        match normalize_domain(text) {
            DomainInput::Invalid { reason, .. } => reason,
            other => panic!("{text:?} should be invalid: {other:?}"),
        }
    }

    #[test]
    fn normalises_case_dots_and_idns() {
        assert_eq!(valid("Example.COM."), "example.com");
        assert_eq!(valid("  mail.example.org  "), "mail.example.org");
        assert_eq!(valid("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(valid("BÜCHER.example"), "xn--bcher-kva.example");
        assert_eq!(valid("xn--bcher-kva.example"), "xn--bcher-kva.example");
        assert_eq!(valid("_dmarc.example.com"), "_dmarc.example.com");
    }

    #[test]
    fn malformed_domains_say_why() {
        assert!(reason("").contains("empty"));
        assert!(reason("a..example").contains("two dots"));
        assert!(reason(&format!("{}.example", "a".repeat(64))).contains("63"));
        assert!(reason("exa mple.com").contains("letters"));
        let long = vec!["abcdefghij"; 25].join(".");
        assert!(reason(&long).contains("253"));
    }

    #[test]
    fn duplicates_are_dropped_case_insensitively() {
        let mut list = DomainList::new(Shard::ALL);
        let input = "example.com\nEXAMPLE.com.\n# comment\n\nbücher.example\nxn--bcher-kva.example\nbad..name\n";
        list.read(input.as_bytes(), "list").expect("reads");
        let texts: Vec<&str> = list.domains.iter().map(DomainInput::text).collect();
        assert_eq!(texts, ["example.com", "xn--bcher-kva.example", "bad..name"]);
        assert_eq!(list.duplicates, 2);
    }

    proptest! {
        /// The shards of any list are disjoint and together give the whole list.
        #[test]
        fn shards_partition_the_domain_list(
            names in proptest::collection::vec("[a-z0-9]{1,12}(\\.[a-z]{2,6}){1,2}", 0..80),
            count in 1u64..7,
        ) {
            let text = names.join("\n");
            let mut whole = DomainList::new(Shard::ALL);
            whole.read(text.as_bytes(), "all").expect("reads");
            let mut union = Vec::new();
            for index in 0..count {
                let mut part = DomainList::new(Shard::new(index, count).expect("shard"));
                part.read(text.as_bytes(), "part").expect("reads");
                union.extend(part.domains);
            }
            let mut expected = whole.domains.clone();
            expected.sort_by(|a, b| a.text().cmp(b.text()));
            union.sort_by(|a, b| a.text().cmp(b.text()));
            prop_assert_eq!(union, expected);
        }
    }
}
