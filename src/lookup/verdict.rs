//! The FCrDNS verdict: pure, from what the lookups found.

use std::net::IpAddr;

use crate::record::{ErrorKind, Fcrdns};

/// What the forward lookup of one PTR name found: its addresses (empty for
/// NXDOMAIN or no data), or why there is no definitive answer.
pub type ForwardResult = Result<Vec<IpAddr>, ErrorKind>;

/// The verdict for `ip`, given its PTR lookup and the forward results of its
/// PTR names, one per name (`None` with `--ptr-only`).
///
/// A confirmation wins over any error: one name pointing back is enough
/// (that is what receivers check). Without one, an unresolved forward lookup
/// means we cannot tell mismatch from confirmed, so the verdict is `error`.
pub fn verdict(
    ip: IpAddr,
    ptr: Result<&[String], ErrorKind>,
    forward: Option<&[ForwardResult]>,
) -> (Fcrdns, Option<ErrorKind>) {
    let names = match ptr {
        Err(error) => return (Fcrdns::Error, Some(error)),
        Ok(names) => names,
    };
    if names.is_empty() {
        return (Fcrdns::NoPtr, None);
    }
    let Some(forward) = forward else {
        return (Fcrdns::Unchecked, None);
    };
    if forward
        .iter()
        .any(|result| result.as_ref().is_ok_and(|addrs| addrs.contains(&ip)))
    {
        return (Fcrdns::Confirmed, None);
    }
    if let Some(error) = forward.iter().find_map(|result| result.as_ref().err()) {
        return (Fcrdns::Error, Some(*error));
    }
    if forward
        .iter()
        .any(|result| result.as_ref().is_ok_and(|addrs| !addrs.is_empty()))
    {
        return (Fcrdns::Mismatch, None);
    }
    (Fcrdns::NoForward, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    type Case<'a> = (
        Result<&'a [String], ErrorKind>,
        Option<Vec<ForwardResult>>,
        Fcrdns,
        Option<ErrorKind>,
    );

    #[test]
    fn verdict_table() {
        let me = ip("198.51.100.20");
        let other = ip("198.51.100.21");
        let one = names(&["mail.example.com"]);
        let two = names(&["mail.example.com", "www.example.com"]);
        let cases: Vec<Case> = vec![
            (
                Err(ErrorKind::Timeout),
                None,
                Fcrdns::Error,
                Some(ErrorKind::Timeout),
            ),
            (Ok(&[]), Some(vec![]), Fcrdns::NoPtr, None),
            (Ok(&one), None, Fcrdns::Unchecked, None),
            (Ok(&one), Some(vec![Ok(vec![me])]), Fcrdns::Confirmed, None),
            (
                Ok(&one),
                Some(vec![Ok(vec![other])]),
                Fcrdns::Mismatch,
                None,
            ),
            (Ok(&one), Some(vec![Ok(vec![])]), Fcrdns::NoForward, None),
            (
                Ok(&two),
                Some(vec![Ok(vec![other]), Ok(vec![other, me])]),
                Fcrdns::Confirmed,
                None,
            ),
            (
                Ok(&two),
                Some(vec![Err(ErrorKind::Servfail), Ok(vec![me])]),
                Fcrdns::Confirmed,
                None,
            ),
            (
                Ok(&two),
                Some(vec![Err(ErrorKind::Servfail), Ok(vec![other])]),
                Fcrdns::Error,
                Some(ErrorKind::Servfail),
            ),
            (
                Ok(&two),
                Some(vec![Ok(vec![]), Ok(vec![other])]),
                Fcrdns::Mismatch,
                None,
            ),
        ];
        for (i, (ptr, forward, want, want_error)) in cases.into_iter().enumerate() {
            let got = verdict(me, ptr, forward.as_deref());
            assert_eq!(got, (want, want_error), "case {i}");
        }
    }
}
