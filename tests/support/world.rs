//! A generated IPv4 world: one /20 of reverse zone with a known mix of
//! verdicts, the forward zone its PTR names live in, a classless-delegation
//! zone reached through CNAMEs, and the row every address must get.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use ptrscan::targets::TargetSet;
use ptrscan::zoneserver::{ZoneServer, ZoneText};

use super::Verdict;

/// 198.18.16.0/20 (RFC 2544 benchmarking space; only ever data in a zone).
pub const PREFIX: &str = "198.18.16.0/20";
const BASE: u32 = u32::from_be_bytes([198, 18, 16, 0]);
pub const SIZE: u32 = 4096;

const HEADER: &str = "$TTL 300\n@ 300 IN SOA ns.fault.test. hostmaster.fault.test. 1 3600 600 86400 300\n@ 300 IN NS ns.fault.test.\n";

pub struct World {
    /// (origin, zone text)
    zones: Vec<(String, String)>,
    /// ip → (ptr, fcrdns, error, forward) as the CSV has them.
    pub expected: BTreeMap<String, Verdict>,
}

fn ip(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(BASE + i)
}

/// An address outside the /20 that mismatching names point to.
fn elsewhere(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 64, (i / 16 % 250 + 1) as u8)
}

impl World {
    /// The /20, one case per `i % 16`.
    pub fn slash20() -> World {
        let mut reverse = String::from(HEADER);
        let mut forward = String::from(HEADER);
        let mut classless = String::from(HEADER);
        let _ = writeln!(forward, "ns A 127.0.0.1");
        let mut expected = BTreeMap::new();
        for i in 0..SIZE {
            let addr = ip(i);
            let [_, _, c, d] = addr.octets();
            let owner = format!("{d}.{c}");
            let mut rr = |rtype: &str, data: &str| {
                let _ = writeln!(reverse, "{owner} {rtype} {data}");
            };
            let (ptrs, fcrdns, fwd): (Vec<String>, &str, Vec<Ipv4Addr>) = match i % 16 {
                // Confirmed.
                0..=3 => {
                    rr("PTR", &format!("host-{i}.fault.test."));
                    let _ = writeln!(forward, "host-{i} A {addr}");
                    (
                        vec![format!("host-{i}.fault.test")],
                        "confirmed",
                        vec![addr],
                    )
                }
                // Two PTR names, one pointing back.
                4 => {
                    rr("PTR", &format!("host-{i}.fault.test."));
                    rr("PTR", &format!("www-{i}.fault.test."));
                    let _ = writeln!(forward, "host-{i} A {addr}");
                    let _ = writeln!(forward, "www-{i} A {}", elsewhere(i));
                    let mut names = vec![
                        format!("host-{i}.fault.test"),
                        format!("www-{i}.fault.test"),
                    ];
                    names.sort();
                    let mut fwd = vec![addr, elsewhere(i)];
                    fwd.sort();
                    (names, "confirmed", fwd)
                }
                // Forward name is a CNAME to the address record.
                5 => {
                    rr("PTR", &format!("alias-{i}.fault.test."));
                    let _ = writeln!(forward, "alias-{i} CNAME host-{i}.fault.test.");
                    let _ = writeln!(forward, "host-{i} A {addr}");
                    (
                        vec![format!("alias-{i}.fault.test")],
                        "confirmed",
                        vec![addr],
                    )
                }
                // Points elsewhere.
                6 | 7 => {
                    rr("PTR", &format!("web-{i}.fault.test."));
                    let _ = writeln!(forward, "web-{i} A {}", elsewhere(i));
                    (
                        vec![format!("web-{i}.fault.test")],
                        "mismatch",
                        vec![elsewhere(i)],
                    )
                }
                // A placeholder name shared by 32 addresses, with no address.
                8 => {
                    let name = format!("unassigned-{}.fault.test", i / 512);
                    rr("PTR", &format!("{name}."));
                    (vec![name], "no_forward", vec![])
                }
                // A name that does not exist.
                9 => {
                    rr("PTR", &format!("ghost-{i}.fault.test."));
                    (vec![format!("ghost-{i}.fault.test")], "no_forward", vec![])
                }
                // A name with only an AAAA: no A confirms an IPv4 address.
                15 => {
                    rr("PTR", &format!("v6only-{i}.fault.test."));
                    let _ = writeln!(forward, "v6only-{i} AAAA 2001:db8:ff::{i:x}");
                    (vec![format!("v6only-{i}.fault.test")], "no_forward", vec![])
                }
                // No PTR.
                10 | 11 => (vec![], "no_ptr", vec![]),
                // RFC 2317: a CNAME into another zone, asked for separately.
                12 => {
                    rr("CNAME", &format!("{i}.rev.fault.test."));
                    let _ = writeln!(classless, "{i} PTR mail-{i}.fault.test.");
                    let _ = writeln!(forward, "mail-{i} A {addr}");
                    (
                        vec![format!("mail-{i}.fault.test")],
                        "confirmed",
                        vec![addr],
                    )
                }
                // The same, to a name the other zone does not have.
                13 => {
                    rr("CNAME", &format!("{i}.rev.fault.test."));
                    (vec![], "no_ptr", vec![])
                }
                // Mixed case in the PTR data: output is lowercase.
                _ => {
                    rr("PTR", &format!("Host-{i}.Fault.TEST."));
                    let _ = writeln!(forward, "host-{i} A {addr}");
                    (
                        vec![format!("host-{i}.fault.test")],
                        "confirmed",
                        vec![addr],
                    )
                }
            };
            let forward_text: Vec<String> = fwd.iter().map(ToString::to_string).collect();
            expected.insert(
                addr.to_string(),
                (
                    ptrs.join("|"),
                    fcrdns.to_owned(),
                    String::new(),
                    forward_text.join("|"),
                ),
            );
        }
        World {
            zones: vec![
                ("18.198.in-addr.arpa".into(), reverse),
                ("fault.test".into(), forward),
                ("rev.fault.test".into(), classless),
            ],
            expected,
        }
    }

    pub fn start_server(&self) -> ZoneServer {
        let zones: Vec<ZoneText<'_>> = self
            .zones
            .iter()
            .map(|(origin, text)| ZoneText { origin, text })
            .collect();
        ZoneServer::start(&zones).expect("generated world starts")
    }

    pub fn targets(&self) -> TargetSet {
        TargetSet::from_nets([PREFIX.parse().expect("prefix")])
    }
}
