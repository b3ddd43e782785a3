//! The FCrDNS verdict: pure, from what the lookups found.

use std::net::IpAddr;

use crate::record::{ErrorKind, Fcrdns};

/// What the forward lookup of one PTR name found: its addresses (empty for
/// NXDOMAIN or no data), or why there is no definitive answer.
pub type ForwardResult = Result<ForwardAddrs, ErrorKind>;

/// The addresses a forward lookup found, sorted, without duplicates.
/// Nearly every name has one, so one is held inline: a forward answer then
/// costs no allocation, nor does handing its result to every target waiting
/// on it. Several go to the heap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ForwardAddrs {
    #[default]
    None,
    One(IpAddr),
    Many(Box<[IpAddr]>),
}

impl ForwardAddrs {
    /// Collects addresses; allocates only when there are several distinct ones.
    pub fn collect(addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        let mut first = None;
        let mut several: Vec<IpAddr> = Vec::new();
        for addr in addrs {
            match first {
                None => first = Some(addr),
                Some(known) if known == addr => {}
                Some(known) => {
                    if several.is_empty() {
                        several.push(known);
                    }
                    several.push(addr);
                }
            }
        }
        if several.is_empty() {
            return first.map_or(ForwardAddrs::None, ForwardAddrs::One);
        }
        several.sort();
        several.dedup();
        ForwardAddrs::Many(several.into_boxed_slice())
    }

    pub fn as_slice(&self) -> &[IpAddr] {
        match self {
            ForwardAddrs::None => &[],
            ForwardAddrs::One(addr) => std::slice::from_ref(addr),
            ForwardAddrs::Many(addrs) => addrs,
        }
    }
}

impl std::ops::Deref for ForwardAddrs {
    type Target = [IpAddr];

    fn deref(&self) -> &[IpAddr] {
        self.as_slice()
    }
}

impl<'a> IntoIterator for &'a ForwardAddrs {
    type Item = &'a IpAddr;
    type IntoIter = std::slice::Iter<'a, IpAddr>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

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
    fn forward_addresses_are_sorted_unique_and_inline_when_one() {
        let (a, b) = (ip("198.51.100.2"), ip("198.51.100.1"));
        assert_eq!(ForwardAddrs::collect([]), ForwardAddrs::None);
        assert_eq!(ForwardAddrs::collect([a, a]), ForwardAddrs::One(a));
        let two = ForwardAddrs::collect([a, b, a]);
        assert_eq!(two.as_slice(), &[b, a]);
        assert!(matches!(two, ForwardAddrs::Many(_)));
        assert!(two.contains(&b));
    }

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
            (
                Ok(&one),
                Some(vec![Ok(ForwardAddrs::collect([me]))]),
                Fcrdns::Confirmed,
                None,
            ),
            (
                Ok(&one),
                Some(vec![Ok(ForwardAddrs::collect([other]))]),
                Fcrdns::Mismatch,
                None,
            ),
            (
                Ok(&one),
                Some(vec![Ok(ForwardAddrs::collect([]))]),
                Fcrdns::NoForward,
                None,
            ),
            (
                Ok(&two),
                Some(vec![
                    Ok(ForwardAddrs::collect([other])),
                    Ok(ForwardAddrs::collect([other, me])),
                ]),
                Fcrdns::Confirmed,
                None,
            ),
            (
                Ok(&two),
                Some(vec![
                    Err(ErrorKind::Servfail),
                    Ok(ForwardAddrs::collect([me])),
                ]),
                Fcrdns::Confirmed,
                None,
            ),
            (
                Ok(&two),
                Some(vec![
                    Err(ErrorKind::Servfail),
                    Ok(ForwardAddrs::collect([other])),
                ]),
                Fcrdns::Error,
                Some(ErrorKind::Servfail),
            ),
            (
                Ok(&two),
                Some(vec![
                    Ok(ForwardAddrs::collect([])),
                    Ok(ForwardAddrs::collect([other])),
                ]),
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
