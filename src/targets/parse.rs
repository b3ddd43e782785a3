//! Turns the targets a user typed or listed in a file into networks.
//!
//! The standard library's parsers only say "invalid IP address syntax"; a user
//! with a typo on line 17 of a 100 000-line list needs the line, the text and
//! what to write instead, so failed parses are re-examined here to name the
//! actual mistake.

use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::TargetError;

/// Parses one target: an IPv4 or IPv6 address (a /32 or /128) or a CIDR
/// prefix. Surrounding whitespace is ignored. A prefix with host bits set, such
/// as `192.0.2.7/24`, is accepted and truncated to its network (`192.0.2.0/24`),
/// because that is almost always what the user meant.
pub fn parse_target(input: &str) -> Result<IpNet, TargetError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(TargetError::Empty);
    }
    let (address_text, prefix_text) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address = parse_address(address_text, text)?;
    let max_prefix_len: u8 = match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let prefix_len = match prefix_text {
        None => max_prefix_len,
        Some(prefix_text) => parse_prefix_len(prefix_text, max_prefix_len, text)?,
    };
    // The length was checked against the family above, so these constructors
    // cannot fail; the error arm only keeps the function panic-free.
    let network = match address {
        IpAddr::V4(v4) => Ipv4Net::new(v4, prefix_len).map(IpNet::V4),
        IpAddr::V6(v6) => Ipv6Net::new(v6, prefix_len).map(IpNet::V6),
    };
    network
        .map(|network| network.trunc())
        .map_err(|_| invalid_prefix_len(text, max_prefix_len))
}

/// Reads one target per line. `#` starts a comment, whole-line or trailing;
/// blank lines are skipped. `source` names the list in error messages
/// (`more-ips.txt:17: invalid address …`), so pass the path or `-`.
///
/// Bytes that are not UTF-8 do not abort the read: they become U+FFFD and the
/// line is then reported as not being an address, with its line number.
pub fn read_targets(mut reader: impl BufRead, source: &str) -> Result<Vec<IpNet>, TargetError> {
    let mut targets = Vec::new();
    let mut line_bytes = Vec::new();
    let mut line_number: u64 = 0;
    loop {
        line_bytes.clear();
        let read =
            reader
                .read_until(b'\n', &mut line_bytes)
                .map_err(|error| TargetError::Read {
                    origin: source.to_owned(),
                    error,
                })?;
        if read == 0 {
            return Ok(targets);
        }
        line_number += 1;
        let line = String::from_utf8_lossy(&line_bytes);
        // Editors on Windows like to start files with a byte-order mark, which
        // is not whitespace to `trim`.
        let line = if line_number == 1 {
            line.trim_start_matches('\u{feff}')
        } else {
            &line
        };
        let content = line.split_once('#').map_or(line, |(before, _)| before);
        if content.trim().is_empty() {
            continue;
        }
        let target = parse_target(content).map_err(|error| TargetError::AtLine {
            origin: source.to_owned(),
            line: line_number,
            error: Box::new(error),
        })?;
        targets.push(target);
    }
}

/// Parses the address part; `whole` is the full trimmed input for messages.
fn parse_address(text: &str, whole: &str) -> Result<IpAddr, TargetError> {
    if text.contains(':') || text.starts_with('[') {
        return text
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| invalid_address(whole, diagnose_ipv6(text)));
    }
    let looks_like_ipv4 = text.contains('.')
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'.');
    if looks_like_ipv4 {
        return text
            .parse::<Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| invalid_address(whole, diagnose_ipv4(text)));
    }
    Err(TargetError::NotATarget {
        input: whole.to_owned(),
    })
}

fn parse_prefix_len(text: &str, max_prefix_len: u8, whole: &str) -> Result<u8, TargetError> {
    if text.is_empty() {
        return Err(TargetError::InvalidPrefixLength {
            input: whole.to_owned(),
            reason: "expected a prefix length after \"/\", e.g. /24",
        });
    }
    // `u8::from_str` would also take "+24"; only plain digits are a length.
    if !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(TargetError::InvalidPrefixLength {
            input: whole.to_owned(),
            reason: "the prefix length must be a whole number after a single \"/\", e.g. /24",
        });
    }
    match text.parse::<u8>() {
        Ok(len) if len <= max_prefix_len => Ok(len),
        // Too many digits for a u8 is just a very large length.
        _ => Err(invalid_prefix_len(whole, max_prefix_len)),
    }
}

fn invalid_prefix_len(whole: &str, max_prefix_len: u8) -> TargetError {
    TargetError::InvalidPrefixLength {
        input: whole.to_owned(),
        reason: if max_prefix_len == 32 {
            "IPv4 prefixes are /0 to /32"
        } else {
            "IPv6 prefixes are /0 to /128"
        },
    }
}

fn invalid_address(whole: &str, reason: &'static str) -> TargetError {
    TargetError::InvalidAddress {
        input: whole.to_owned(),
        reason,
    }
}

/// Names the first mistake in text made of digits and dots that did not parse
/// as an IPv4 address.
fn diagnose_ipv4(text: &str) -> &'static str {
    if text.split('.').count() != 4 {
        return "an IPv4 address has exactly 4 dot-separated octets, e.g. 192.0.2.1";
    }
    for octet in text.split('.') {
        if octet.is_empty() {
            return "an octet is empty: write 4 numbers separated by single dots, e.g. 192.0.2.1";
        }
        if octet.len() > 3 || octet.parse::<u16>().map_or(true, |value| value > 255) {
            return "each IPv4 octet must be 0-255";
        }
        if octet.len() > 1 && octet.starts_with('0') {
            return "octets must not have leading zeros (some tools read them as octal): write e.g. 192.0.2.1";
        }
    }
    "expected 4 octets 0-255 separated by dots, e.g. 192.0.2.1"
}

/// Names the first mistake in text with a colon that did not parse as IPv6.
fn diagnose_ipv6(text: &str) -> &'static str {
    if text.starts_with('[') || text.ends_with(']') {
        return "remove the [ ] brackets: write e.g. 2001:db8::1 or 2001:db8::/64";
    }
    if text.contains('%') {
        return "zone IDs such as %eth0 are not supported: drop the %… suffix";
    }
    if text.matches("::").count() > 1 {
        return "\"::\" may appear at most once in an IPv6 address";
    }
    let has_embedded_ipv4 = text.contains('.');
    let hex_part = if has_embedded_ipv4 {
        text.rsplit_once(':').map_or(text, |(hex, _)| hex)
    } else {
        text
    };
    for group in hex_part.split(':') {
        if !group.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return "IPv6 groups are hex digits 0-9 and a-f separated by colons, e.g. 2001:db8::1";
        }
        if group.len() > 4 {
            return "each IPv6 group has at most 4 hex digits";
        }
    }
    if has_embedded_ipv4 {
        return "an embedded IPv4 suffix must be a valid dotted address, e.g. ::ffff:192.0.2.1";
    }
    if !text.contains("::") && text.split(':').count() != 8 {
        return "an IPv6 address has 8 groups, or fewer with one \"::\" standing for the zeros, e.g. 2001:db8::1";
    }
    if text.contains("::") && text.split(':').filter(|group| !group.is_empty()).count() > 7 {
        return "an IPv6 address has at most 8 groups; with \"::\" at most 7 are written";
    }
    "expected up to 8 colon-separated groups of 1-4 hex digits with at most one \"::\", e.g. 2001:db8::1"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().expect("test literal is a valid network")
    }

    #[test]
    fn accepts_addresses_and_prefixes() {
        let cases = [
            ("192.0.2.1", "192.0.2.1/32"),
            ("  192.0.2.1\t", "192.0.2.1/32"),
            ("0.0.0.0", "0.0.0.0/32"),
            ("255.255.255.255", "255.255.255.255/32"),
            ("198.51.100.0/24", "198.51.100.0/24"),
            ("192.0.2.7/24", "192.0.2.0/24"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("203.0.113.9/0", "0.0.0.0/0"),
            ("192.0.2.1/32", "192.0.2.1/32"),
            ("192.0.2.1/032", "192.0.2.1/32"),
            ("2001:db8::1", "2001:db8::1/128"),
            ("2001:DB8::1", "2001:db8::1/128"),
            ("::", "::/128"),
            ("::/0", "::/0"),
            ("2001:db8::/120", "2001:db8::/120"),
            ("2001:db8::abcd/120", "2001:db8::ab00/120"),
            ("2001:db8:1:2:3:4:5:6/64", "2001:db8:1:2::/64"),
            ("::ffff:192.0.2.1", "::ffff:192.0.2.1/128"),
            ("2001:db8::1/128", "2001:db8::1/128"),
        ];
        for (input, expected) in cases {
            let parsed = parse_target(input);
            assert_eq!(
                parsed.as_ref().ok(),
                Some(&net(expected)),
                "{input:?} gave {parsed:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_input_with_a_message_naming_it_and_the_fix() {
        // (input, the quoted text the message must name, the fix it must state)
        let cases = [
            (
                "300.1.2.3",
                "invalid address \"300.1.2.3\"",
                "each IPv4 octet must be 0-255",
            ),
            ("1.2.3.256/24", "invalid address \"1.2.3.256/24\"", "0-255"),
            ("1.2.3.1000", "\"1.2.3.1000\"", "0-255"),
            (
                "1.2.3",
                "invalid address \"1.2.3\"",
                "exactly 4 dot-separated octets",
            ),
            ("1.2.3.4.5", "\"1.2.3.4.5\"", "exactly 4"),
            ("1..2.3", "\"1..2.3\"", "an octet is empty"),
            ("1.2.3.", "\"1.2.3.\"", "an octet is empty"),
            ("01.2.3.4", "\"01.2.3.4\"", "leading zeros"),
            (
                "198.51.100.0/33",
                "invalid prefix length in \"198.51.100.0/33\"",
                "IPv4 prefixes are /0 to /32",
            ),
            (
                "192.0.2.0/999999999999",
                "\"192.0.2.0/999999999999\"",
                "/0 to /32",
            ),
            (
                "2001:db8::/129",
                "\"2001:db8::/129\"",
                "IPv6 prefixes are /0 to /128",
            ),
            (
                "192.0.2.0/",
                "\"192.0.2.0/\"",
                "expected a prefix length after \"/\"",
            ),
            ("192.0.2.0/x", "\"192.0.2.0/x\"", "must be a whole number"),
            (
                "192.0.2.0/+24",
                "\"192.0.2.0/+24\"",
                "must be a whole number",
            ),
            ("192.0.2.0/-1", "\"192.0.2.0/-1\"", "must be a whole number"),
            ("192.0.2.0/24/8", "\"192.0.2.0/24/8\"", "single \"/\""),
            ("192.0.2.0/ 24", "\"192.0.2.0/ 24\"", "whole number"),
            (
                "2001:db8::1::2",
                "invalid address \"2001:db8::1::2\"",
                "at most once",
            ),
            (
                "2001:db8::12345",
                "\"2001:db8::12345\"",
                "at most 4 hex digits",
            ),
            ("2001:db8::g", "\"2001:db8::g\"", "hex digits 0-9 and a-f"),
            (
                "[2001:db8::1]",
                "\"[2001:db8::1]\"",
                "remove the [ ] brackets",
            ),
            ("fe80::1%eth0", "\"fe80::1%eth0\"", "zone IDs"),
            ("1:2:3:4:5:6:7", "\"1:2:3:4:5:6:7\"", "8 groups"),
            ("1:2:3:4:5:6:7:8:9", "\"1:2:3:4:5:6:7:8:9\"", "8 groups"),
            (
                "1:2:3:4::5:6:7:8",
                "\"1:2:3:4::5:6:7:8\"",
                "at most 7 are written",
            ),
            ("::ffff:1.2.3.400", "\"::ffff:1.2.3.400\"", "embedded IPv4"),
            (
                "foo",
                "\"foo\" is not an IP address or CIDR prefix",
                "expected e.g. 192.0.2.1, 198.51.100.0/24 or 2001:db8::/120",
            ),
            ("example.com", "\"example.com\"", "expected e.g. 192.0.2.1"),
            ("3232235777", "\"3232235777\"", "expected e.g."),
            ("/24", "\"/24\"", "expected e.g."),
            ("", "empty target", "such as 192.0.2.1"),
            ("   ", "empty target", "such as 192.0.2.1"),
        ];
        for (input, names_input, states_fix) in cases {
            let message = match parse_target(input) {
                Ok(network) => panic!("{input:?} was accepted as {network}"),
                Err(error) => error.to_string(),
            };
            assert!(
                message.contains(names_input),
                "message for {input:?} does not contain {names_input:?}: {message}"
            );
            assert!(
                message.contains(states_fix),
                "message for {input:?} does not contain {states_fix:?}: {message}"
            );
            assert!(
                !message.contains('\n'),
                "message is not one line: {message}"
            );
        }
    }

    #[test]
    fn the_error_kind_matches_the_mistake() {
        assert!(matches!(
            parse_target("300.1.2.3"),
            Err(TargetError::InvalidAddress { input, .. }) if input == "300.1.2.3"
        ));
        assert!(matches!(
            parse_target(" 10.0.0.0/40 "),
            Err(TargetError::InvalidPrefixLength { input, .. }) if input == "10.0.0.0/40"
        ));
        assert!(matches!(
            parse_target("foo"),
            Err(TargetError::NotATarget { input }) if input == "foo"
        ));
        assert!(matches!(parse_target(""), Err(TargetError::Empty)));
    }

    #[test]
    fn reads_a_list_with_comments_and_blank_lines() {
        let list = "\u{feff}# scan list\n\
                    192.0.2.1\n\
                    \n\
                    198.51.100.7/24   # trailing comment\r\n\
                    \t  \n\
                    #192.0.2.99\n\
                    2001:db8::/126#no space before the comment\n\
                    203.0.113.5";
        let targets = read_targets(list.as_bytes(), "list.txt");
        let expected = vec![
            net("192.0.2.1/32"),
            net("198.51.100.0/24"),
            net("2001:db8::/126"),
            net("203.0.113.5/32"),
        ];
        assert_eq!(targets.ok(), Some(expected));
    }

    #[test]
    fn an_empty_list_is_empty_not_an_error() {
        assert_eq!(read_targets(&b""[..], "empty.txt").ok(), Some(Vec::new()));
        assert_eq!(
            read_targets(&b"# nothing\n\n"[..], "x").ok(),
            Some(Vec::new())
        );
    }

    #[test]
    fn a_bad_line_is_reported_with_source_and_line_number() {
        let mut list = String::new();
        for octet in 1..=16 {
            list.push_str(&format!("192.0.2.{octet}\n"));
        }
        list.push_str("300.1.2.3   # typo\n192.0.2.200\n");
        let message = match read_targets(list.as_bytes(), "more-ips.txt") {
            Ok(targets) => panic!("accepted {} targets", targets.len()),
            Err(error) => error.to_string(),
        };
        assert_eq!(
            message,
            "more-ips.txt:17: invalid address \"300.1.2.3\": each IPv4 octet must be 0-255"
        );
    }

    #[test]
    fn non_utf8_bytes_are_reported_as_a_bad_line() {
        let list = b"192.0.2.1\n\xff\xfe1.2.3.4\n";
        let message = read_targets(&list[..], "bin.txt").map_err(|error| error.to_string());
        let message = message.err().unwrap_or_default();
        assert!(message.starts_with("bin.txt:2: "), "{message}");
        assert!(message.contains("is not an IP address"), "{message}");
    }

    #[test]
    fn a_read_failure_is_a_read_error_naming_the_source() {
        struct FailingReader;
        impl std::io::Read for FailingReader {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let result = read_targets(std::io::BufReader::new(FailingReader), "ips.txt");
        let Err(error) = result else {
            panic!("a failing reader produced targets");
        };
        assert_eq!(
            error.to_string(),
            "cannot read target list ips.txt: disk on fire"
        );
        assert!(matches!(error, TargetError::Read { origin, .. } if origin == "ips.txt"));
    }
}
