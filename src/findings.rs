//! Turns what the scanner learned about one IP's reverse DNS into findings
//! (problem, severity, next step) and a 0–25 score, so reports and exit codes
//! rest on one documented, pure rule set rather than ad-hoc checks.
//!
//! ## Reverse-DNS score (0–25)
//!
//! Reverse DNS is a graded check worth 25 points: full marks when the PTR
//! forward-confirms to a name the operator chose, partial credit when a PTR
//! exists but does not confirm or is a provider's generic name, nothing when
//! there is no PTR.
//!
//! | forward confirmation (FCrDNS) | custom name | generic name |
//! |---|---|---|
//! | confirmed | 25 | 15 |
//! | PTR exists, not confirmed (`mismatch`, `no_forward`) | 10 | 5 |
//! | unknown (`error`, `unchecked`) and a PTR name is known | 10 | 5 |
//! | no PTR (`no_ptr`, or no PTR name known when the check ran) | 0 | 0 |
//! | unknown (`error`, `unchecked`) and no PTR name known | 0 | 0 |
//!
//! Then, only when the base above is not 0, deductions:
//! − 3 when the IP has several PTR records, − 2 when a PTR is a bare
//! registrable domain or a website-style name (`www.`, `web.`), − 3 when the
//! EHLO/banner name differs from the PTR. The result is floored at 0.
//!
//! An unknown confirmation earns only the "not confirmed" credit because a
//! receiver that cannot confirm the name does not trust it either; no
//! `no-ptr` or `fcrdns-fail` finding is reported for it, since nothing
//! was shown to be wrong.
//!
//! ## Findings
//!
//! | code | severity | when |
//! |---|---|---|
//! | `no-ptr` | high | the IP has no PTR record |
//! | `fcrdns-fail` | high | the PTR name does not resolve back to the IP (`mismatch`, `no_forward`) |
//! | `generic-ptr` | medium | a PTR name is a provider's generic hostname |
//! | `multiple-ptr` | medium | the IP has more than one distinct PTR name |
//! | `website-name` | low | a PTR is a bare registrable domain or starts with `www.` / `web.` |
//! | `ehlo-mismatch` | medium | the EHLO/banner name differs from the PTR |

/// How bad a finding is for mail deliverability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An address's findings, in report order ([`Finding::ALL`]), each at most
/// once: inline, as there are only six.
pub type Findings = smallvec::SmallVec<[Finding; 6]>;

/// The codes and the next steps of findings as [`assess`] reports them (in
/// report order, each once), as static lists: every row lists both, and
/// building two lists per row was a share of the writer's time.
pub fn finding_texts(findings: &[Finding]) -> (&'static [&'static str], &'static [&'static str]) {
    static BY_SET: std::sync::LazyLock<Vec<(Vec<&'static str>, Vec<&'static str>)>> =
        std::sync::LazyLock::new(|| {
            (0..1usize << Finding::ALL.len())
                .map(|set| {
                    let members = Finding::ALL
                        .iter()
                        .enumerate()
                        .filter(|(bit, _)| set & (1 << bit) != 0)
                        .map(|(_, finding)| finding);
                    (
                        members.clone().map(|finding| finding.code()).collect(),
                        members.map(|finding| finding.next_step()).collect(),
                    )
                })
                .collect()
        });
    let set = findings.iter().fold(0usize, |set, finding| {
        let bit = Finding::ALL
            .iter()
            .position(|each| each == finding)
            .unwrap_or(0);
        set | 1 << bit
    });
    BY_SET.get(set).map_or((&[], &[]), |(codes, steps)| {
        (codes.as_slice(), steps.as_slice())
    })
}

/// A reverse-DNS problem worth telling the operator about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Finding {
    NoPtr,
    NotForwardConfirmed,
    GenericPtr,
    MultiplePtr,
    WebsiteStyleName,
    EhloMismatch,
}

impl Finding {
    /// Every finding, in report order.
    pub const ALL: [Finding; 6] = [
        Finding::NoPtr,
        Finding::NotForwardConfirmed,
        Finding::GenericPtr,
        Finding::MultiplePtr,
        Finding::WebsiteStyleName,
        Finding::EhloMismatch,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Finding::NoPtr => "no-ptr",
            Finding::NotForwardConfirmed => "fcrdns-fail",
            Finding::GenericPtr => "generic-ptr",
            Finding::MultiplePtr => "multiple-ptr",
            Finding::WebsiteStyleName => "website-name",
            Finding::EhloMismatch => "ehlo-mismatch",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Finding::NoPtr | Finding::NotForwardConfirmed => Severity::High,
            Finding::GenericPtr | Finding::MultiplePtr | Finding::EhloMismatch => Severity::Medium,
            Finding::WebsiteStyleName => Severity::Low,
        }
    }

    /// What to do about it, in one sentence.
    pub fn next_step(self) -> &'static str {
        match self {
            Finding::NoPtr => "Ask the VPS/IP provider to set a PTR record for the mail hostname.",
            Finding::NotForwardConfirmed => "Add or correct the A record for the PTR hostname.",
            Finding::GenericPtr => {
                "Set a custom PTR such as mail.example.com if the provider allows it."
            }
            Finding::MultiplePtr => {
                "Keep one PTR per IP, pointing at the mail hostname, and remove the others."
            }
            Finding::WebsiteStyleName => {
                "Use a clear hostname such as mail.example.com or server1.example.com."
            }
            Finding::EhloMismatch => {
                "Align mail server hostname, HELO/EHLO and PTR where possible."
            }
        }
    }
}

pub use crate::record::Fcrdns;

/// Findings, their highest severity, and the 0–25 score for one IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub findings: Findings,
    pub severity: Option<Severity>,
    pub score: u8,
}

/// Highest possible score.
pub const MAX_SCORE: u8 = 25;
const SCORE_CONFIRMED_GENERIC: u8 = 15;
const SCORE_UNCONFIRMED_CUSTOM: u8 = 10;
const SCORE_UNCONFIRMED_GENERIC: u8 = 5;
const DEDUCT_MULTIPLE_PTR: u8 = 3;
const DEDUCT_WEBSITE_NAME: u8 = 2;
const DEDUCT_EHLO_MISMATCH: u8 = 3;

/// Assesses one IP. `ptr_names` are its PTR names as returned by DNS (any
/// case, trailing dots allowed); `any_generic` says whether the classifier
/// found any of them generic; `ehlo_mismatch` is `Some(true)` when the
/// EHLO/banner name was seen and differs from the PTR.
pub fn assess(
    fcrdns: Fcrdns,
    ptr_names: &[String],
    any_generic: bool,
    ehlo_mismatch: Option<bool>,
) -> Assessment {
    let has_ptr = !ptr_names.is_empty() && fcrdns != Fcrdns::NoPtr;
    let mut findings = Findings::new();

    if fcrdns.is_known() && !has_ptr {
        findings.push(Finding::NoPtr);
    }
    if has_ptr && matches!(fcrdns, Fcrdns::Mismatch | Fcrdns::NoForward) {
        findings.push(Finding::NotForwardConfirmed);
    }
    if has_ptr && any_generic {
        findings.push(Finding::GenericPtr);
    }
    if has_ptr && distinct_name_count(ptr_names) > 1 {
        findings.push(Finding::MultiplePtr);
    }
    if has_ptr && ptr_names.iter().any(|name| is_website_style(name)) {
        findings.push(Finding::WebsiteStyleName);
    }
    if ehlo_mismatch == Some(true) {
        findings.push(Finding::EhloMismatch);
    }

    let base = match (has_ptr, fcrdns, any_generic) {
        (false, _, _) => 0,
        (true, Fcrdns::Confirmed, false) => MAX_SCORE,
        (true, Fcrdns::Confirmed, true) => SCORE_CONFIRMED_GENERIC,
        (true, _, false) => SCORE_UNCONFIRMED_CUSTOM,
        (true, _, true) => SCORE_UNCONFIRMED_GENERIC,
    };
    let deductions: u8 = findings
        .iter()
        .map(|finding| match finding {
            Finding::MultiplePtr => DEDUCT_MULTIPLE_PTR,
            Finding::WebsiteStyleName => DEDUCT_WEBSITE_NAME,
            Finding::EhloMismatch => DEDUCT_EHLO_MISMATCH,
            _ => 0,
        })
        .sum();
    let score = if base == 0 {
        0
    } else {
        base.saturating_sub(deductions)
    };
    let severity = findings.iter().map(|finding| finding.severity()).max();
    Assessment {
        findings,
        severity,
        score,
    }
}

/// A host name as compared everywhere: no surrounding space, no trailing
/// dot (the root `.` becomes empty), lower case.
pub fn normal_name(name: &str) -> String {
    normal_form(name).into_owned()
}

/// [`normal_name`] without a copy when the name is already normal, as
/// names from answers are (lowercase, no trailing dot): this runs for every
/// name of every row.
fn normal_form(name: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = name.trim().trim_end_matches('.');
    if trimmed.bytes().any(|byte| byte.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(trimmed)
    }
}

fn distinct_name_count(names: &[String]) -> usize {
    if names.len() < 2 {
        return names.len();
    }
    let mut seen: Vec<_> = names.iter().map(|name| normal_form(name)).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// A bare registrable domain (`example.com`) or a web host name
/// (`www.example.com`, `web.example.com`): names that identify a website,
/// not a mail server.
pub fn is_website_style(name: &str) -> bool {
    let name = normal_form(name);
    if name.starts_with("www.") || name.starts_with("web.") {
        return true;
    }
    crate::classify::registrable_domain(&name) == Some(&*name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    /// The static lists spell every set of findings as mapping each one does.
    #[test]
    fn finding_texts_list_every_set_in_report_order() {
        for set in 0..1u32 << Finding::ALL.len() {
            let findings: Vec<Finding> = Finding::ALL
                .iter()
                .enumerate()
                .filter(|(bit, _)| set & (1 << bit) != 0)
                .map(|(_, finding)| *finding)
                .collect();
            let (codes, steps) = finding_texts(&findings);
            let want_codes: Vec<&str> = findings.iter().map(|f| f.code()).collect();
            let want_steps: Vec<&str> = findings.iter().map(|f| f.next_step()).collect();
            assert_eq!(codes, want_codes.as_slice(), "set {set:#b}");
            assert_eq!(steps, want_steps.as_slice(), "set {set:#b}");
        }
    }

    #[test]
    fn codes_severities_and_steps_are_stable() {
        let table = [
            (Finding::NoPtr, "no-ptr", Severity::High),
            (Finding::NotForwardConfirmed, "fcrdns-fail", Severity::High),
            (Finding::GenericPtr, "generic-ptr", Severity::Medium),
            (Finding::MultiplePtr, "multiple-ptr", Severity::Medium),
            (Finding::WebsiteStyleName, "website-name", Severity::Low),
            (Finding::EhloMismatch, "ehlo-mismatch", Severity::Medium),
        ];
        for (finding, code, severity) in table {
            assert_eq!(finding.code(), code);
            assert_eq!(finding.severity(), severity);
            let step = finding.next_step();
            assert!(step.ends_with('.') && !step.is_empty(), "{code}: {step}");
        }
        assert_eq!(Finding::ALL.len(), 6);
        assert_eq!(Severity::High.as_str(), "high");
        assert_eq!(Severity::Medium.as_str(), "medium");
        assert_eq!(Severity::Low.as_str(), "low");
        assert!(Severity::High > Severity::Medium && Severity::Medium > Severity::Low);
        let fcrdns = [
            (Fcrdns::Confirmed, "confirmed"),
            (Fcrdns::Mismatch, "mismatch"),
            (Fcrdns::NoForward, "no_forward"),
            (Fcrdns::NoPtr, "no_ptr"),
            (Fcrdns::Error, "error"),
            (Fcrdns::Unchecked, "unchecked"),
        ];
        for (value, text) in fcrdns {
            assert_eq!(value.as_str(), text);
            assert_eq!(value.to_string(), text);
        }
    }

    #[test]
    fn assess_table() {
        use Finding::*;
        struct Case {
            fcrdns: Fcrdns,
            names: &'static [&'static str],
            generic: bool,
            ehlo: Option<bool>,
            findings: &'static [Finding],
            severity: Option<Severity>,
            score: u8,
        }
        let mail: &[&str] = &["mail.example.com."];
        let generic_name: &[&str] = &["198-51-100-20.dsl.example.net"];
        let cases = [
            // Base scores.
            Case {
                fcrdns: Fcrdns::Confirmed,
                names: mail,
                generic: false,
                ehlo: None,
                findings: &[],
                severity: None,
                score: 25,
            },
            Case {
                fcrdns: Fcrdns::Confirmed,
                names: generic_name,
                generic: true,
                ehlo: None,
                findings: &[GenericPtr],
                severity: Some(Severity::Medium),
                score: 15,
            },
            Case {
                fcrdns: Fcrdns::Mismatch,
                names: mail,
                generic: false,
                ehlo: None,
                findings: &[NotForwardConfirmed],
                severity: Some(Severity::High),
                score: 10,
            },
            Case {
                fcrdns: Fcrdns::NoForward,
                names: mail,
                generic: false,
                ehlo: None,
                findings: &[NotForwardConfirmed],
                severity: Some(Severity::High),
                score: 10,
            },
            Case {
                fcrdns: Fcrdns::Mismatch,
                names: generic_name,
                generic: true,
                ehlo: None,
                findings: &[NotForwardConfirmed, GenericPtr],
                severity: Some(Severity::High),
                score: 5,
            },
            Case {
                fcrdns: Fcrdns::NoPtr,
                names: &[],
                generic: false,
                ehlo: None,
                findings: &[NoPtr],
                severity: Some(Severity::High),
                score: 0,
            },
            // A check that ran but found no name is a missing PTR whatever it says.
            Case {
                fcrdns: Fcrdns::Confirmed,
                names: &[],
                generic: false,
                ehlo: None,
                findings: &[NoPtr],
                severity: Some(Severity::High),
                score: 0,
            },
            // Unknown confirmation: no invented findings, unconfirmed credit only.
            Case {
                fcrdns: Fcrdns::Error,
                names: &[],
                generic: false,
                ehlo: None,
                findings: &[],
                severity: None,
                score: 0,
            },
            Case {
                fcrdns: Fcrdns::Unchecked,
                names: &[],
                generic: false,
                ehlo: None,
                findings: &[],
                severity: None,
                score: 0,
            },
            Case {
                fcrdns: Fcrdns::Error,
                names: mail,
                generic: false,
                ehlo: None,
                findings: &[],
                severity: None,
                score: 10,
            },
            Case {
                fcrdns: Fcrdns::Unchecked,
                names: generic_name,
                generic: true,
                ehlo: None,
                findings: &[GenericPtr],
                severity: Some(Severity::Medium),
                score: 5,
            },
            // Deductions.
            Case {
                fcrdns: Fcrdns::Confirmed,
                names: &["mail.example.com", "mx.example.org"],
                generic: false,
                ehlo: None,
                findings: &[MultiplePtr],
                severity: Some(Severity::Medium),
                score: 22,
            },
            Case {
                fcrdns: Fcrdns::Confirmed,
                names: &["mail.example.com", "MAIL.example.com."],
                generic: false,
                ehlo: None,
                findings: &[],
                severity: None,
                score: 25,
            },
            Case {
                fcrdns: Fcrdns::Confirmed,
                names: &["www.example.com"],
                generic: false,
                ehlo: None,
                findings: &[WebsiteStyleName],
                severity: Some(Severity::Low),
                score: 23,
            },
            Case {
                fcrdns: Fcrdns::Confirmed,
                names: &["web.example.com"],
                generic: false,
                ehlo: None,
                findings: &[WebsiteStyleName],
                severity: Some(Severity::Low),
                score: 23,
            },
            Case {
                fcrdns: Fcrdns::Confirmed,
                names: &["example.co.uk"],
                generic: false,
                ehlo: None,
                findings: &[WebsiteStyleName],
                severity: Some(Severity::Low),
                score: 23,
            },
            Case {
                fcrdns: Fcrdns::Confirmed,
                names: mail,
                generic: false,
                ehlo: Some(true),
                findings: &[EhloMismatch],
                severity: Some(Severity::Medium),
                score: 22,
            },
            Case {
                fcrdns: Fcrdns::Confirmed,
                names: mail,
                generic: false,
                ehlo: Some(false),
                findings: &[],
                severity: None,
                score: 25,
            },
            // Every deduction at once, on the smallest base: floored at 0.
            Case {
                fcrdns: Fcrdns::NoForward,
                names: &["example.com", "www.example.net"],
                generic: true,
                ehlo: Some(true),
                findings: &[
                    NotForwardConfirmed,
                    GenericPtr,
                    MultiplePtr,
                    WebsiteStyleName,
                    EhloMismatch,
                ],
                severity: Some(Severity::High),
                score: 0,
            },
            // No PTR: deductions do not apply, the EHLO finding still does.
            Case {
                fcrdns: Fcrdns::NoPtr,
                names: &[],
                generic: false,
                ehlo: Some(true),
                findings: &[NoPtr, EhloMismatch],
                severity: Some(Severity::High),
                score: 0,
            },
        ];
        for (index, case) in cases.iter().enumerate() {
            let assessment = assess(case.fcrdns, &names(case.names), case.generic, case.ehlo);
            assert_eq!(
                assessment.findings.as_slice(),
                case.findings,
                "case {index}"
            );
            assert_eq!(assessment.severity, case.severity, "case {index}");
            assert_eq!(assessment.score, case.score, "case {index}");
            assert!(assessment.score <= MAX_SCORE);
        }
    }

    #[test]
    fn website_style_names() {
        assert!(is_website_style("www.example.com"));
        assert!(is_website_style("example.com."));
        assert!(is_website_style("Example.CO.UK"));
        assert!(!is_website_style("mail.example.com"));
        assert!(!is_website_style("webmail.example.com"));
        assert!(!is_website_style("com"));
        assert!(!is_website_style(""));
    }
}
