//! Finds an IP address written into a PTR name, in the encodings providers
//! actually use, because an embedded address is the single strongest sign
//! that a name was generated for a whole block rather than chosen for one host.
//!
//! Everything works on the lower-cased name with fixed-size stack buffers so
//! the hot path does not allocate.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How strongly the name encodes an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum AddressStrength {
    #[default]
    None,
    /// The last octet of the known IP as a number in the first label (`h137.`).
    LastOctet,
    /// The same, as a number of its own between separators (`client-137.`).
    LastOctetToken,
    /// Three octet-like numbers in a row that are not part of the known IP
    /// (or no IP was given to check them against).
    PartialUnverified,
    /// Two consecutive octets of the known IP.
    PartialTwo,
    /// A complete address, but either no IP was given or it is not this IP's.
    AddressLike,
    /// Three consecutive octets (or a prefix of IPv6 groups) of the known IP.
    PartialThree,
    /// The known IP itself.
    Matched,
}

#[derive(Debug, Default)]
pub(crate) struct AddressEvidence {
    pub strength: AddressStrength,
    reasons: [Option<&'static str>; 6],
}

impl AddressEvidence {
    fn upgrade(&mut self, strength: AddressStrength) {
        if strength > self.strength {
            self.strength = strength;
        }
    }

    fn reason(&mut self, code: &'static str) {
        for slot in self.reasons.iter_mut() {
            match slot {
                Some(existing) if *existing == code => return,
                None => {
                    *slot = Some(code);
                    return;
                }
                Some(_) => {}
            }
        }
    }

    pub(crate) fn reasons(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.reasons.iter().flatten().copied()
    }
}

const MAX_RUNS: usize = 32;

/// A maximal run of decimal digits.
#[derive(Debug, Clone, Copy, Default)]
struct DigitRun {
    start: usize,
    end: usize,
    value: u64,
}

impl DigitRun {
    fn len(&self) -> usize {
        self.end - self.start
    }

    fn octet(&self) -> Option<u8> {
        if self.len() <= 3 {
            u8::try_from(self.value).ok()
        } else {
            None
        }
    }
}

fn digit_runs(text: &[u8], runs: &mut [DigitRun; MAX_RUNS]) -> usize {
    let mut count = 0;
    let mut index = 0;
    while index < text.len() && count < MAX_RUNS {
        if text[index].is_ascii_digit() {
            let start = index;
            let mut value: u64 = 0;
            while index < text.len() && text[index].is_ascii_digit() {
                value = value
                    .saturating_mul(10)
                    .saturating_add(u64::from(text[index] - b'0'));
                index += 1;
            }
            runs[count] = DigitRun {
                start,
                end: index,
                value,
            };
            count += 1;
        } else {
            index += 1;
        }
    }
    count
}

/// The single separator byte between two runs, if they are one byte apart.
fn separator(text: &[u8], before: &DigitRun, after: &DigitRun) -> Option<u8> {
    if after.start == before.end + 1 {
        text.get(before.end).copied()
    } else {
        None
    }
}

fn separator_reason(separators: &[u8]) -> &'static str {
    let first = separators.first().copied().unwrap_or(b'-');
    if separators.iter().any(|&sep| sep != first) {
        return "ip-embedded:mixed";
    }
    match first {
        b'-' => "ip-embedded:dashed",
        b'.' => "ip-embedded:dotted",
        b'_' => "ip-embedded:underscore",
        b'x' => "ip-embedded:x-separated",
        _ => "ip-embedded:mixed",
    }
}

fn zero_padded(runs: &[DigitRun]) -> bool {
    runs.iter()
        .any(|run| run.len() > 1 && run.value < 10u64.pow(run.len() as u32 - 1))
}

/// Examines `scan` (lower-case labels left of the registrable domain plus the
/// domain's own first label) for an embedded address.
pub(crate) fn detect(scan: &str, ip: Option<IpAddr>) -> AddressEvidence {
    let mut evidence = AddressEvidence::default();
    let known_v6 = match ip {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => Some(v6),
        _ => None,
    };
    let mut found_other_address = false;
    // Nibble labels (`1.0.0.2`) would otherwise be read as dotted octets:
    // once they are judged, hide them from the decimal detectors.
    let mut masked: [u8; COMPACT_LEN];
    let text = match ipv6_nibbles(scan.as_bytes(), known_v6, &mut evidence) {
        Some(nibbles) => {
            found_other_address |= nibbles.other_address;
            masked = [0u8; COMPACT_LEN];
            match masked.get_mut(..scan.len()) {
                Some(copy) => {
                    copy.copy_from_slice(scan.as_bytes());
                    if let Some(span) = copy.get_mut(nibbles.start..nibbles.end) {
                        span.fill(b'z');
                    }
                    &*copy
                }
                None => scan.as_bytes(),
            }
        }
        None => scan.as_bytes(),
    };
    let mut runs = [DigitRun::default(); MAX_RUNS];
    let run_count = digit_runs(text, &mut runs);
    let runs = &runs[..run_count];

    let known_v4 = match ip {
        Some(IpAddr::V4(v4)) => Some(v4),
        Some(IpAddr::V6(v6)) => v6.to_ipv4_mapped(),
        None => None,
    };

    found_other_address |= dotted_quads(text, runs, known_v4, &mut evidence);
    found_other_address |= packed_decimal(text, runs, known_v4, &mut evidence);
    if let Some(v4) = known_v4
        && evidence.strength < AddressStrength::PartialTwo
    {
        loose_octets(text, runs, v4, &mut evidence);
    }
    if let Some(v4) = known_v4 {
        hex_v4(text, v4, &mut evidence);
    }
    found_other_address |= ipv6_groups(text, known_v6, &mut evidence);
    found_other_address |= ipv6_packed(text, known_v6, &mut evidence);
    if let Some(v6) = known_v6 {
        ipv6_packed_prefix(text, v6, &mut evidence);
    }

    if found_other_address && evidence.strength != AddressStrength::Matched {
        evidence.upgrade(AddressStrength::AddressLike);
        if ip.is_some() {
            evidence.reason("ip-embedded:mismatch");
        }
    }
    evidence
}

/// Octet runs separated by single bytes, in either order. Returns whether a
/// complete address other than the known IP was seen.
fn dotted_quads(
    text: &[u8],
    runs: &[DigitRun],
    known: Option<Ipv4Addr>,
    evidence: &mut AddressEvidence,
) -> bool {
    let mut other_address = false;
    let mut best_partial = 0usize;
    let mut best_partial_reversed = false;
    let mut unverified_three = false;
    for start in 0..runs.len() {
        // Longest chain of octet-sized runs joined by single separators.
        let mut chain = 0;
        let mut separators = [0u8; 3];
        while start + chain < runs.len() && chain < 4 {
            if runs[start + chain].octet().is_none() {
                break;
            }
            if chain > 0 {
                match separator(text, &runs[start + chain - 1], &runs[start + chain]) {
                    Some(sep) if !sep.is_ascii_alphanumeric() || sep == b'x' => {
                        separators[chain - 1] = sep;
                    }
                    _ => break,
                }
            }
            chain += 1;
        }
        if chain == 0 {
            continue;
        }
        let octets: [u8; 4] = std::array::from_fn(|i| {
            runs.get(start + i)
                .and_then(DigitRun::octet)
                .unwrap_or_default()
        });
        if chain == 4 {
            let forward = Ipv4Addr::from(octets);
            let reversed = Ipv4Addr::new(octets[3], octets[2], octets[1], octets[0]);
            let quad = &runs[start..start + 4];
            match known {
                Some(ip) if ip == forward || ip == reversed => {
                    evidence.upgrade(AddressStrength::Matched);
                    evidence.reason(separator_reason(&separators));
                    if ip != forward {
                        evidence.reason("ip-embedded:reversed");
                    }
                    if zero_padded(quad) {
                        evidence.reason("ip-embedded:zero-padded");
                    }
                    return false;
                }
                _ => {
                    other_address = true;
                    evidence.reason(separator_reason(&separators));
                    if zero_padded(quad) {
                        evidence.reason("ip-embedded:zero-padded");
                    }
                }
            }
        }
        // Three octets in a row (`red-198-51-100`) are a block address even
        // when they cannot be checked, or name a neighbouring block (stale
        // templates); two multi-digit values keep `1-2-3` versions out.
        if chain == 3
            && runs[start..start + 3]
                .iter()
                .filter(|run| run.len() >= 2)
                .count()
                >= 2
        {
            unverified_three = true;
        }
        if let Some(ip) = known {
            let ip_octets = ip.octets();
            for (reversed, order) in [(false, [0usize, 1, 2, 3]), (true, [3, 2, 1, 0])] {
                for first in 0..4 {
                    let mut matched = 0;
                    while matched < chain
                        && first + matched < 4
                        && octets[matched] == ip_octets[order[first + matched]]
                    {
                        matched += 1;
                    }
                    if matched > best_partial {
                        best_partial = matched;
                        best_partial_reversed = reversed;
                    }
                }
            }
        }
    }
    if best_partial >= 2 && evidence.strength != AddressStrength::Matched {
        evidence.upgrade(if best_partial == 3 {
            AddressStrength::PartialThree
        } else {
            AddressStrength::PartialTwo
        });
        evidence.reason("ip-embedded:partial");
        if best_partial_reversed {
            evidence.reason("ip-embedded:reversed");
        }
    }
    if unverified_three && !other_address && best_partial < 2 {
        evidence.upgrade(AddressStrength::PartialUnverified);
        evidence.reason("ip-embedded:partial");
    }
    other_address
}

/// 12-digit zero-padded (`089144192089`) and 32-bit decimal forms.
fn packed_decimal(
    text: &[u8],
    runs: &[DigitRun],
    known: Option<Ipv4Addr>,
    evidence: &mut AddressEvidence,
) -> bool {
    let mut other_address = false;
    for run in runs {
        let digits = &text[run.start..run.end];
        if digits.len() == 12 {
            let mut octets = [0u8; 4];
            let mut valid = true;
            for (index, chunk) in digits.chunks(3).enumerate() {
                let value = chunk
                    .iter()
                    .fold(0u16, |acc, &digit| acc * 10 + u16::from(digit - b'0'));
                match (u8::try_from(value), octets.get_mut(index)) {
                    (Ok(octet), Some(slot)) => *slot = octet,
                    _ => valid = false,
                }
            }
            if valid {
                let forward = Ipv4Addr::from(octets);
                let reversed = Ipv4Addr::new(octets[3], octets[2], octets[1], octets[0]);
                evidence.reason("ip-embedded:packed");
                match known {
                    Some(ip) if ip == forward || ip == reversed => {
                        evidence.upgrade(AddressStrength::Matched);
                        if ip != forward {
                            evidence.reason("ip-embedded:reversed");
                        }
                    }
                    _ => other_address = true,
                }
            }
        }
        if let Some(ip) = known
            && (8..=10).contains(&digits.len())
            && run.value == u64::from(u32::from(ip))
        {
            evidence.upgrade(AddressStrength::Matched);
            evidence.reason("ip-embedded:decimal");
        }
    }
    other_address
}

/// Weaker encodings of part of the known IP: consecutive octets written
/// without separators (`134136`, `213002`), octets scattered over several
/// labels (`h244.net95`), or just the last octet in the first label.
fn loose_octets(text: &[u8], runs: &[DigitRun], known: Ipv4Addr, evidence: &mut AddressEvidence) {
    let octets = known.octets();
    // Each octet's digits, plain and zero-padded, written once per name:
    // the candidates below are compared against the run in place, and
    // nearly all of them fail on their first digit.
    let forms: [[OctetDigits; 2]; 4] = std::array::from_fn(|index| {
        [false, true].map(|padded| OctetDigits::of(octets[index], padded))
    });
    for run in runs {
        let digits = &text[run.start..run.end];
        if !(4..12).contains(&digits.len()) {
            continue;
        }
        for reversed in [false, true] {
            for width in 2..=4usize {
                for first in 0..=4 - width {
                    for padded in [false, true] {
                        let order = (0..width).map(|offset| {
                            if reversed {
                                3 - first - offset
                            } else {
                                first + offset
                            }
                        });
                        if spells(
                            digits,
                            order.map(|index| &forms[index][usize::from(padded)]),
                        ) {
                            evidence.upgrade(if width >= 3 {
                                AddressStrength::PartialThree
                            } else {
                                AddressStrength::PartialTwo
                            });
                            evidence.reason("ip-embedded:packed");
                            evidence.reason("ip-embedded:partial");
                            if reversed {
                                evidence.reason("ip-embedded:reversed");
                            }
                            return;
                        }
                    }
                }
            }
        }
    }
    // Octets found anywhere; small values are too likely to be coincidences.
    let mut seen = [false; 4];
    for run in runs {
        if let Some(value) = run.octet()
            && value >= 10
            && let Some(index) = (0..4).find(|&index| !seen[index] && octets[index] == value)
        {
            seen[index] = true;
        }
    }
    if seen.iter().filter(|&&found| found).count() >= 2 {
        evidence.upgrade(AddressStrength::PartialTwo);
        evidence.reason("ip-embedded:partial");
        return;
    }
    let first_label_end = text
        .iter()
        .position(|&byte| byte == b'.')
        .unwrap_or(text.len());
    if octets[3] < 10 {
        return;
    }
    let is_separator = |index: Option<usize>| {
        index
            .and_then(|index| text.get(index))
            .is_none_or(|byte| matches!(byte, b'-' | b'.' | b'_'))
    };
    for run in runs {
        if run.end > first_label_end || run.octet() != Some(octets[3]) {
            continue;
        }
        // A number standing alone (`client-137`) is how block templates
        // append the host part; glued to a word (`web137`) it is as likely
        // to be a host counter.
        let standalone = is_separator(run.start.checked_sub(1)) && is_separator(Some(run.end));
        evidence.upgrade(if standalone {
            AddressStrength::LastOctetToken
        } else {
            AddressStrength::LastOctet
        });
        evidence.reason("ip-embedded:last-octet");
    }
}

/// An octet in decimal, optionally zero-padded to three digits.
struct OctetDigits {
    bytes: [u8; 3],
    len: usize,
}

impl OctetDigits {
    fn of(octet: u8, padded: bool) -> Self {
        let bytes = [
            b'0' + octet / 100,
            b'0' + octet / 10 % 10,
            b'0' + octet % 10,
        ];
        let len = if padded || octet >= 100 {
            3
        } else if octet >= 10 {
            2
        } else {
            1
        };
        let mut out = [0u8; 3];
        out[..len].copy_from_slice(&bytes[3 - len..]);
        OctetDigits { bytes: out, len }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Whether `digits` is exactly the concatenation of `parts`.
fn spells<'a>(digits: &[u8], parts: impl Iterator<Item = &'a OctetDigits>) -> bool {
    let mut rest = digits;
    for part in parts {
        match rest.strip_prefix(part.as_bytes()) {
            Some(tail) => rest = tail,
            None => return false,
        }
    }
    rest.is_empty()
}

fn hex_digits(value: u32, out: &mut [u8; 8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (index, slot) in out.iter_mut().enumerate() {
        let shift = 28 - 4 * index as u32;
        *slot = HEX[((value >> shift) & 0xf) as usize];
    }
}

pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return false;
    };
    // Checking the first byte inline skips most slice comparisons, which
    // would each be a `memcmp` call on this hot path.
    haystack
        .windows(needle.len())
        .any(|window| window[0] == first && window == needle)
}

/// `p5dc556fd`, `c0a80001`, byte-reversed hex, hex bytes split by
/// separators (`c6.33.64.14`, `dd.9e.1632`), and three consecutive bytes
/// (`c63364`, the /24 a line sits in). Separators are dropped before
/// searching so that split forms line up; a chance match of six or eight
/// hex digits of this very address is too unlikely to matter.
fn hex_v4(text: &[u8], known: Ipv4Addr, evidence: &mut AddressEvidence) {
    let mut forward = [0u8; 8];
    let mut reversed = [0u8; 8];
    hex_digits(u32::from(known), &mut forward);
    hex_digits(u32::from(known).swap_bytes(), &mut reversed);
    // Every form below is a run of hex digits once separators are dropped:
    // eight of them for the whole address, and where the address's hex
    // digits are all decimal only that (the partial forms must show a
    // letter, see below); otherwise six or more that include a letter.
    // Most names have no such run (a dashed decimal address has no letter),
    // and this one pass over the name is cheaper than the searches.
    let runs = hex_runs(text);
    let possible = if forward.iter().all(u8::is_ascii_digit) {
        runs.longest >= 8
    } else {
        runs.longest_with_letter >= 6
    };
    if !possible {
        return;
    }
    let mut buffer = [0u8; COMPACT_LEN];
    let mut length = 0;
    for &byte in text {
        if is_hex_separator(byte) {
            continue;
        }
        let Some(slot) = buffer.get_mut(length) else {
            break;
        };
        *slot = byte;
        length += 1;
    }
    let compact = &buffer[..length];
    // One pass per byte order finds the whole address and its first three
    // bytes; the last three bytes need their own pass.
    let forward_len = longest_prefix_match(compact, &forward);
    let reversed_len = longest_prefix_match(compact, &reversed);
    if forward_len == 8 || reversed_len == 8 {
        evidence.upgrade(AddressStrength::Matched);
        evidence.reason("ip-embedded:hex");
        if forward_len != 8 {
            evidence.reason("ip-embedded:reversed");
        }
        return;
    }
    for (digits, matched, is_reversed) in [
        (&forward, forward_len, false),
        (&reversed, reversed_len, true),
    ] {
        let leading = &digits[..6];
        let trailing = &digits[2..];
        let found = (matched >= 6 && !leading.iter().all(u8::is_ascii_digit))
            // All-decimal windows would also match plain decimal numbers.
            || (!trailing.iter().all(u8::is_ascii_digit) && contains(compact, trailing));
        if found {
            evidence.upgrade(AddressStrength::PartialThree);
            evidence.reason("ip-embedded:hex");
            evidence.reason("ip-embedded:partial");
            if is_reversed {
                evidence.reason("ip-embedded:reversed");
            }
            return;
        }
    }
}

/// Bytes [`hex_v4`] drops before searching, so that split forms line up.
fn is_hex_separator(byte: u8) -> bool {
    matches!(byte, b'.' | b'-' | b'_')
}

/// The longest runs of hex digits in `text`, not counting the separators
/// between them: any run, and any run that has a letter (`a`-`f`).
#[derive(Debug, Default, PartialEq, Eq)]
struct HexRuns {
    longest: usize,
    longest_with_letter: usize,
}

fn hex_runs(text: &[u8]) -> HexRuns {
    let mut runs = HexRuns::default();
    let (mut run, mut has_letter) = (0, false);
    for &byte in text {
        if byte.is_ascii_hexdigit() {
            run += 1;
            has_letter |= !byte.is_ascii_digit();
            runs.longest = runs.longest.max(run);
            if has_letter {
                runs.longest_with_letter = runs.longest_with_letter.max(run);
            }
        } else if !is_hex_separator(byte) {
            (run, has_letter) = (0, false);
        }
    }
    runs
}

/// The longest prefix of `needle` found anywhere in `haystack`.
fn longest_prefix_match(haystack: &[u8], needle: &[u8]) -> usize {
    let Some(&first) = needle.first() else {
        return 0;
    };
    let mut best = 0;
    for (start, &byte) in haystack.iter().enumerate() {
        if byte != first {
            continue;
        }
        let matched = haystack[start..]
            .iter()
            .zip(needle)
            .take_while(|(left, right)| left == right)
            .count();
        best = best.max(matched);
        if best == needle.len() {
            break;
        }
    }
    best
}

/// Room for any scan text: names are at most 253 bytes.
const COMPACT_LEN: usize = 256;

const MAX_GROUPS: usize = 16;

/// A `-`-separated hex group inside one label; `None` marks the empty group
/// that `--` leaves for `::`.
type Group = Option<u16>;

fn parse_group(token: &[u8]) -> Option<Group> {
    if token.is_empty() {
        return Some(None);
    }
    if token.len() > 4 || !token.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut value = 0u16;
    for &byte in token {
        let nibble = (byte as char).to_digit(16)? as u16;
        value = (value << 4) | nibble;
    }
    Some(Some(value))
}

/// `2403-5808-2e-4--1192`: groups joined by `-`, `--` for `::`.
fn ipv6_groups(text: &[u8], known: Option<Ipv6Addr>, evidence: &mut AddressEvidence) -> bool {
    let mut other_address = false;
    for label in text.split(|&byte| byte == b'.') {
        if !label.contains(&b'-') {
            continue;
        }
        // With no address to compare, a window counts only when shaped like
        // an address (see `judge_v6_window`): eight groups, or an empty group
        // from `--` or a dash at either end. Most dashed labels are neither.
        if known.is_none()
            && label.iter().filter(|&&byte| byte == b'-').count() < 7
            && !label.windows(2).any(|pair| pair == b"--")
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-')
        {
            continue;
        }
        let mut groups: [Group; MAX_GROUPS] = [None; MAX_GROUPS];
        let mut count = 0;
        // Walk windows of consecutive hex-group tokens; a non-hex token ends a window.
        let mut flush = |groups: &[Group], evidence: &mut AddressEvidence| {
            other_address |= judge_v6_window(groups, known, evidence);
        };
        for token in label.split(|&byte| byte == b'-') {
            match parse_group(token) {
                Some(group) if count < MAX_GROUPS => {
                    groups[count] = group;
                    count += 1;
                }
                _ => {
                    flush(&groups[..count], evidence);
                    count = 0;
                }
            }
        }
        flush(&groups[..count], evidence);
    }
    other_address
}

/// Decides whether one window of hex groups is an IPv6 address (or a prefix of
/// the known one). Returns whether it is a complete address other than `known`.
fn judge_v6_window(
    groups: &[Group],
    known: Option<Ipv6Addr>,
    evidence: &mut AddressEvidence,
) -> bool {
    let explicit = groups.iter().filter(|group| group.is_some()).count();
    if explicit < 3 {
        return false;
    }
    if let Some(ip) = known {
        let segments = ip.segments();
        let matched = longest_segment_alignment(groups, &segments);
        if matched >= explicit && matched >= 3 {
            let compressed = groups.iter().any(Option::is_none);
            if explicit == 8 || compressed {
                evidence.upgrade(AddressStrength::Matched);
            } else {
                evidence.upgrade(AddressStrength::PartialThree);
                evidence.reason("ip-embedded:partial");
            }
            evidence.reason("ip-embedded:ipv6");
            return false;
        }
    }
    // Without a match, only call it an address when it has the shape of one:
    // eight groups, or a compressed form whose first group is a full prefix.
    let leading = groups.iter().take_while(|group| group.is_some()).count();
    let empties = groups.iter().filter(|group| group.is_none()).count();
    let shaped = (explicit == 8 && empties == 0)
        || ((1..=2).contains(&empties) && leading >= 2 && explicit < 8);
    if shaped
        && groups
            .first()
            .copied()
            .flatten()
            .is_some_and(|first| first >= 0x1000)
    {
        evidence.reason("ip-embedded:ipv6");
        return true;
    }
    false
}

/// How many explicit groups, read in order from the window start, line up with
/// consecutive segments of the address (an empty group skips zero segments).
fn longest_segment_alignment(groups: &[Group], segments: &[u16; 8]) -> usize {
    let mut best = 0;
    for first_segment in 0..8 {
        let mut segment = first_segment;
        let mut matched = 0;
        let mut ok = true;
        for (index, group) in groups.iter().enumerate() {
            match group {
                Some(value) => {
                    if segments.get(segment) == Some(value) {
                        matched += 1;
                        segment += 1;
                    } else {
                        ok = false;
                        break;
                    }
                }
                None => {
                    // Skip the run of zero segments `::` stands for, up to the
                    // segment the next explicit group names.
                    let next = groups.get(index + 1).copied().flatten();
                    while segment < 8 && segments[segment] == 0 && Some(segments[segment]) != next {
                        segment += 1;
                    }
                }
            }
        }
        if ok {
            best = best.max(matched);
        }
    }
    best
}

/// 32 hex digits in a row (`20014c4e198d65010944fe0c94c0b856`).
fn ipv6_packed(text: &[u8], known: Option<Ipv6Addr>, evidence: &mut AddressEvidence) -> bool {
    if text.len() < 32 {
        return false;
    }
    let mut index = 0;
    while index < text.len() {
        if !text[index].is_ascii_hexdigit() {
            index += 1;
            continue;
        }
        let start = index;
        while index < text.len() && text[index].is_ascii_hexdigit() {
            index += 1;
        }
        if index - start != 32 {
            continue;
        }
        let mut value: u128 = 0;
        for &byte in &text[start..index] {
            let nibble = (byte as char).to_digit(16).unwrap_or_default();
            value = (value << 4) | u128::from(nibble);
        }
        evidence.reason("ip-embedded:ipv6");
        match known {
            Some(ip) if u128::from(ip) == value => {
                evidence.upgrade(AddressStrength::Matched);
                return false;
            }
            _ => return true,
        }
    }
    false
}

/// Where a run of nibble labels sits and what it was judged to be.
struct NibbleRun {
    start: usize,
    end: usize,
    other_address: bool,
}

/// Nibble labels as in `ip6.arpa` (`1.0.0.0.….8.b.d.0.1.0.0.2`, least
/// significant first) or forward: at least eight consecutive one-hex-digit
/// labels. Eight or more nibbles of the known address (in either order) are
/// part of it; sixteen or more without a match are some IPv6 address.
fn ipv6_nibbles(
    text: &[u8],
    known: Option<Ipv6Addr>,
    evidence: &mut AddressEvidence,
) -> Option<NibbleRun> {
    const MIN_NIBBLES: usize = 8;
    // Most names have far fewer labels; this vectorised count is the fast exit.
    if text.iter().filter(|&&byte| byte == b'.').count() < MIN_NIBBLES - 1 {
        return None;
    }
    let (mut best_start, mut best_count) = (0, 0);
    let (mut run_start, mut count) = (0, 0);
    let mut label_start = 0;
    for (index, &byte) in text.iter().chain(std::iter::once(&b'.')).enumerate() {
        if byte != b'.' {
            continue;
        }
        let single_hex =
            index == label_start + 1 && text.get(label_start).is_some_and(u8::is_ascii_hexdigit);
        if single_hex {
            if count == 0 {
                run_start = label_start;
            }
            count += 1;
            if count > best_count {
                (best_start, best_count) = (run_start, count);
            }
        } else {
            count = 0;
        }
        label_start = index + 1;
    }
    if !(MIN_NIBBLES..=32).contains(&best_count) {
        return None;
    }
    let mut nibbles = [0u8; 32];
    for (slot, index) in nibbles.iter_mut().zip((best_start..).step_by(2)) {
        *slot = text.get(index).copied().unwrap_or_default();
    }
    let nibbles = &nibbles[..best_count];
    let run = NibbleRun {
        start: best_start,
        end: best_start + 2 * best_count - 1,
        other_address: false,
    };
    if let Some(ip) = known {
        let mut forward = [0u8; 32];
        hex_digits_u128(u128::from(ip), &mut forward);
        let mut reversed = forward;
        reversed.reverse();
        for (digits, is_reversed) in [(&reversed, true), (&forward, false)] {
            if contains(digits, nibbles) {
                evidence.upgrade(if best_count == 32 {
                    AddressStrength::Matched
                } else {
                    AddressStrength::PartialThree
                });
                evidence.reason("ip-embedded:ipv6");
                evidence.reason("ip-embedded:nibbles");
                if best_count < 32 {
                    evidence.reason("ip-embedded:partial");
                }
                if is_reversed {
                    evidence.reason("ip-embedded:reversed");
                }
                return Some(run);
            }
        }
    }
    if best_count >= 16 {
        evidence.reason("ip-embedded:ipv6");
        evidence.reason("ip-embedded:nibbles");
        return Some(NibbleRun {
            other_address: true,
            ..run
        });
    }
    None
}

fn hex_digits_u128(value: u128, out: &mut [u8; 32]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (index, slot) in out.iter_mut().enumerate() {
        let shift = 124 - 4 * index as u32;
        *slot = HEX[((value >> shift) & 0xf) as usize];
    }
}

/// The known IPv6 address's leading hex digits run together
/// (`p20010db80002abcd`): at least its first 48 bits, the part that names
/// the customer's prefix. All 32 digits are handled by [`ipv6_packed`].
fn ipv6_packed_prefix(text: &[u8], known: Ipv6Addr, evidence: &mut AddressEvidence) {
    const MIN_DIGITS: usize = 12;
    let mut digits = [0u8; 32];
    hex_digits_u128(u128::from(known), &mut digits);
    let Some(at) = text
        .windows(MIN_DIGITS)
        .position(|window| window[0] == digits[0] && window == &digits[..MIN_DIGITS])
    else {
        return;
    };
    let matched = text
        .get(at..)
        .unwrap_or_default()
        .iter()
        .zip(digits.iter())
        .take_while(|(left, right)| left == right)
        .count();
    evidence.reason("ip-embedded:ipv6");
    if matched == digits.len() {
        evidence.upgrade(AddressStrength::Matched);
    } else {
        evidence.upgrade(AddressStrength::PartialThree);
        evidence.reason("ip-embedded:partial");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detected(name: &str, ip: &str) -> (AddressStrength, Vec<&'static str>) {
        let evidence = detect(name, ip.parse().ok());
        (evidence.strength, evidence.reasons().collect())
    }

    #[test]
    fn hex_runs_skip_separators_and_note_letters() {
        let runs = hex_runs(b"ip10-1-245-88.pool");
        assert_eq!(
            runs,
            HexRuns {
                longest: 8,
                longest_with_letter: 0
            }
        );
        let runs = hex_runs(b"c6.33.64.14.host");
        assert_eq!(runs.longest_with_letter, 8);
    }

    /// The fast exits skip only names no hex or IPv6 form can be in.
    #[test]
    fn fast_exits_keep_every_form() {
        // 18.52.86.120 is 0x12345678: all decimal, so the whole address counts.
        let (strength, reasons) = detected("h12345678.host", "18.52.86.120");
        assert_eq!(strength, AddressStrength::Matched);
        assert!(reasons.contains(&"ip-embedded:hex"), "{reasons:?}");
        // Three bytes with a letter, split by separators.
        let (strength, reasons) = detected("ip-c6-33-64.host", "198.51.100.20");
        assert_eq!(strength, AddressStrength::PartialThree);
        assert!(reasons.contains(&"ip-embedded:hex"), "{reasons:?}");
        // A dashed decimal address has no hex form.
        let (_, reasons) = detected("ip-198-51-100-20.example", "198.51.100.20");
        assert!(!reasons.contains(&"ip-embedded:hex"), "{reasons:?}");
        // An IPv6 address in an IPv4 address's name, compressed or in full.
        for name in ["2001-db8--1.example", "2001-db8-0-0-0-0-0-1.example"] {
            let (strength, reasons) = detected(name, "198.51.100.20");
            assert_eq!(strength, AddressStrength::AddressLike, "{name}");
            assert!(reasons.contains(&"ip-embedded:ipv6"), "{name}: {reasons:?}");
        }
        let (_, reasons) = detected("a-2001-db8-1.example", "198.51.100.20");
        assert!(!reasons.contains(&"ip-embedded:ipv6"), "{reasons:?}");
    }
}
