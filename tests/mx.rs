//! `ptrscan mx` against a generated world of domains on the in-process DNS
//! server: every `mx_status`, preference ties, hosts with several
//! addresses, shared hosts, and each FCrDNS verdict at a primary MX address.
//! The rows must equal the world's truth exactly.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use assert_cmd::Command;
use ptrscan::zoneserver::{ZoneServer, ZoneText};

/// One expected row: domain, mx_status, mx_host, mx_pref, ip, fcrdns.
type TruthRow = (String, String, String, String, String, String);

#[derive(Default)]
struct World {
    forward: String,
    reverse_v4: String,
    reverse_v6: String,
    /// Domains to ask for, as the user would list them.
    inputs: Vec<String>,
    truth: BTreeSet<TruthRow>,
    /// Extra rows that only `--all-mx` adds.
    all_mx_extra: BTreeSet<TruthRow>,
    next_v4: u8,
    next_v6: u16,
}

const ZONE: &str = "mx.test";

fn row(domain: &str, status: &str, host: &str, pref: &str, ip: &str, fcrdns: &str) -> TruthRow {
    (
        domain.into(),
        status.into(),
        host.into(),
        pref.into(),
        ip.into(),
        fcrdns.into(),
    )
}

impl World {
    fn v4(&mut self) -> IpAddr {
        self.next_v4 += 1;
        IpAddr::from([198, 51, 100, self.next_v4])
    }

    fn v6(&mut self) -> IpAddr {
        self.next_v6 += 1;
        format!("2001:db8:e::{:x}", self.next_v6)
            .parse()
            .expect("v6")
    }

    fn record(&mut self, owner: &str, rtype: &str, data: &str) {
        let _ = writeln!(self.forward, "{owner}. IN {rtype} {data}");
    }

    fn ptr(&mut self, ip: IpAddr, name: &str) {
        match ip {
            IpAddr::V4(v4) => {
                let _ = writeln!(self.reverse_v4, "{} IN PTR {name}.", v4.octets()[3]);
            }
            IpAddr::V6(_) => {
                let reverse = ptrscan::wire::WireName::reverse(ip).to_presentation();
                let _ = writeln!(self.reverse_v6, "{reverse}. IN PTR {name}.");
            }
        }
    }

    /// A mail host with these addresses, each given its FCrDNS verdict.
    fn host(&mut self, name: &str, addresses: &[(IpAddr, &str)]) {
        for (ip, verdict) in addresses {
            let rtype = if ip.is_ipv4() { "A" } else { "AAAA" };
            self.record(name, rtype, &ip.to_string());
            match *verdict {
                "confirmed" => self.ptr(*ip, name),
                "mismatch" => {
                    let other = format!("elsewhere-{}.{ZONE}", self.next_v4);
                    let elsewhere = if ip.is_ipv4() {
                        "A 192.0.2.200"
                    } else {
                        "AAAA 2001:db8:ffff::1"
                    };
                    let (rtype, data) = elsewhere.split_once(' ').expect("pair");
                    self.record(&other, rtype, data);
                    self.ptr(*ip, &other);
                }
                "no_forward" => {
                    let ghost = format!("ghost-{}-{}.{ZONE}", self.next_v4, self.next_v6);
                    self.ptr(*ip, &ghost);
                }
                "no_ptr" => {}
                other => panic!("unknown verdict {other}"),
            }
        }
    }

    fn build() -> World {
        let mut w = World::default();
        // ok: one MX, one address, each verdict at the primary address.
        for verdict in ["confirmed", "mismatch", "no_forward", "no_ptr"] {
            let label = verdict.replace('_', "-");
            let domain = format!("single-{label}.{ZONE}");
            let host = format!("mail.single-{label}.{ZONE}");
            let ip = w.v4();
            w.record(&domain, "MX", &format!("10 {host}."));
            w.host(&host, &[(ip, verdict)]);
            w.inputs.push(domain.clone());
            w.truth
                .insert(row(&domain, "ok", &host, "10", &ip.to_string(), verdict));
        }
        // Preference ties: two primaries at 10, a backup at 20.
        {
            let domain = format!("tied.{ZONE}");
            let (a, b, backup) = (w.v4(), w.v4(), w.v4());
            for (pref, name, ip) in [(10, "mx1", a), (10, "mx2", b), (20, "backup", backup)] {
                let host = format!("{name}.tied.{ZONE}");
                w.record(&domain, "MX", &format!("{pref} {host}."));
                w.host(&host, &[(ip, "confirmed")]);
                let truth = row(
                    &domain,
                    "ok",
                    &host,
                    &pref.to_string(),
                    &ip.to_string(),
                    "confirmed",
                );
                if pref == 10 {
                    w.truth.insert(truth);
                } else {
                    w.all_mx_extra.insert(truth);
                }
            }
            w.inputs.push(domain);
        }
        // A host with several addresses of both families, mixed verdicts.
        {
            let domain = format!("multi.{ZONE}");
            let host = format!("mx.multi.{ZONE}");
            let addresses = [
                (w.v4(), "confirmed"),
                (w.v4(), "mismatch"),
                (w.v6(), "confirmed"),
                (w.v6(), "no_ptr"),
            ];
            w.record(&domain, "MX", &format!("5 {host}."));
            w.host(&host, &addresses);
            for (ip, verdict) in addresses {
                w.truth
                    .insert(row(&domain, "ok", &host, "5", &ip.to_string(), verdict));
            }
            w.inputs.push(domain);
        }
        // One host shared by many domains (a hosted-mail provider).
        {
            let host = format!("inbound.provider.{ZONE}");
            let ip = w.v4();
            w.host(&host, &[(ip, "confirmed")]);
            for n in 0..30 {
                let domain = format!("customer{n}.{ZONE}");
                w.record(&domain, "MX", &format!("10 {host}."));
                w.inputs.push(domain.clone());
                w.truth.insert(row(
                    &domain,
                    "ok",
                    &host,
                    "10",
                    &ip.to_string(),
                    "confirmed",
                ));
            }
        }
        // RFC 7505 null MX.
        {
            let domain = format!("nullmx.{ZONE}");
            w.record(&domain, "MX", "0 .");
            w.record(&domain, "A", "192.0.2.10");
            w.inputs.push(domain.clone());
            w.truth.insert(row(&domain, "null_mx", ".", "0", "", ""));
        }
        // Implicit MX: no MX, but an address (IPv4 and IPv6).
        {
            let domain = format!("implicit.{ZONE}");
            let (a, b) = (w.v4(), w.v6());
            w.host(&domain, &[(a, "confirmed"), (b, "no_forward")]);
            w.inputs.push(domain.clone());
            w.truth.insert(row(
                &domain,
                "implicit_mx",
                &domain,
                "",
                &a.to_string(),
                "confirmed",
            ));
            w.truth.insert(row(
                &domain,
                "implicit_mx",
                &domain,
                "",
                &b.to_string(),
                "no_forward",
            ));
        }
        // Neither MX nor address.
        {
            let domain = format!("nomail.{ZONE}");
            w.record(&domain, "TXT", "\"v=spf1 -all\"");
            w.inputs.push(domain.clone());
            w.truth.insert(row(&domain, "no_mx", "", "", "", ""));
        }
        // Does not exist.
        {
            let domain = format!("missing.{ZONE}");
            w.inputs.push(domain.clone());
            w.truth.insert(row(&domain, "nxdomain", "", "", "", ""));
        }
        // MX target is a CNAME (followed, reported).
        {
            let domain = format!("aliased.{ZONE}");
            let alias = format!("mail.aliased.{ZONE}");
            let real = format!("real.aliased.{ZONE}");
            let ip = w.v4();
            w.record(&domain, "MX", &format!("10 {alias}."));
            w.record(&alias, "CNAME", &format!("{real}."));
            w.host(&real, &[(ip, "confirmed")]);
            w.inputs.push(domain.clone());
            // The PTR names the real host; forward lookups of it confirm.
            w.truth.insert(row(
                &domain,
                "cname_mx",
                &alias,
                "10",
                &ip.to_string(),
                "confirmed",
            ));
        }
        // MX host without any address.
        {
            let domain = format!("hostless.{ZONE}");
            let host = format!("mx.hostless.{ZONE}");
            w.record(&domain, "MX", &format!("10 {host}."));
            w.record(&host, "TXT", "\"no address here\"");
            w.inputs.push(domain.clone());
            w.truth
                .insert(row(&domain, "no_address", &host, "10", "", ""));
        }
        // A domain outside any zone the server has: REFUSED, an error.
        {
            let domain = "elsewhere.example".to_owned();
            w.inputs.push(domain.clone());
            w.truth.insert(row(&domain, "error", "", "", "", ""));
        }
        // The domain itself is an alias of a domain with MX.
        {
            let domain = format!("www-alias.{ZONE}");
            let target = format!("single-confirmed.{ZONE}");
            w.record(&domain, "CNAME", &format!("{target}."));
            w.inputs.push(domain.clone());
            let ip = IpAddr::from([198, 51, 100, 1]);
            let host = format!("mail.single-confirmed.{ZONE}");
            w.truth.insert(row(
                &domain,
                "ok",
                &host,
                "10",
                &ip.to_string(),
                "confirmed",
            ));
        }
        // An IDN, written in Unicode and upper case.
        {
            let domain = format!("xn--bcher-kva.{ZONE}");
            let host = format!("mx.xn--bcher-kva.{ZONE}");
            let ip = w.v4();
            w.record(&domain, "MX", &format!("10 {host}."));
            w.host(&host, &[(ip, "confirmed")]);
            w.inputs.push(format!("BÜCHER.{ZONE}"));
            w.truth.insert(row(
                &domain,
                "ok",
                &host,
                "10",
                &ip.to_string(),
                "confirmed",
            ));
        }
        // Duplicates (any case) and a malformed line.
        w.inputs.push(format!("SINGLE-CONFIRMED.{ZONE}."));
        w.inputs.push("bad..domain".into());
        w.truth.insert(row("bad..domain", "error", "", "", "", ""));
        w
    }

    fn zones(&self) -> [(String, String); 3] {
        let head = "$TTL 300\n@ IN SOA ns.mx.test. hostmaster.mx.test. 1 3600 600 86400 300\n@ IN NS ns.mx.test.\n";
        [
            (ZONE.to_owned(), format!("{head}{}", self.forward)),
            (
                "100.51.198.in-addr.arpa".to_owned(),
                format!("{head}{}", self.reverse_v4),
            ),
            (
                "0.0.0.0.0.0.0.0.0.0.0.0.e.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa".to_owned(),
                format!("{head}{}", self.reverse_v6),
            ),
        ]
    }
}

fn serve(world: &World) -> ZoneServer {
    let zones = world.zones();
    let texts: Vec<ZoneText<'_>> = zones
        .iter()
        .map(|(origin, text)| ZoneText { origin, text })
        .collect();
    ZoneServer::start(&texts).expect("world starts")
}

fn run_mx(server: &ZoneServer, world: &World, extra: &[&str]) -> (Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mx.jsonl");
    let output = Command::cargo_bin("ptrscan")
        .expect("binary")
        .args([
            "mx",
            "-i",
            "-",
            "--resolver",
            &server.addr().to_string(),
            "--retries",
            "1",
            "-o",
        ])
        .arg(&out)
        .args(extra)
        .write_stdin(world.inputs.join("\n"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    let rows = support::read_jsonl(&out);
    (rows, stderr)
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn as_truth(rows: &[serde_json::Value]) -> Vec<TruthRow> {
    rows.iter()
        .map(|r| {
            (
                text(&r["domain"]),
                text(&r["mx_status"]),
                text(&r["mx_host"]),
                text(&r["mx_pref"]),
                text(&r["ip"]),
                text(&r["fcrdns"]),
            )
        })
        .collect()
}

#[test]
fn mx_rows_equal_the_world_truth() {
    let world = World::build();
    let server = serve(&world);
    let (rows, summary) = run_mx(&server, &world, &[]);
    let got = as_truth(&rows);
    let unique: BTreeSet<TruthRow> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "no row twice");
    let missing: Vec<_> = world.truth.difference(&unique).collect();
    let extra: Vec<_> = unique.difference(&world.truth).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
    // Every status is in the world.
    for status in [
        "ok",
        "null_mx",
        "implicit_mx",
        "no_mx",
        "nxdomain",
        "cname_mx",
        "no_address",
        "error",
    ] {
        assert!(got.iter().any(|r| r.1 == status), "{status}");
    }
    // Errors carry their reason.
    let reason = |domain: &str| {
        rows.iter()
            .find(|r| r["domain"] == domain)
            .map(|r| text(&r["mx_error"]))
            .unwrap_or_default()
    };
    assert_eq!(reason("elsewhere.example"), "mx lookup: refused");
    assert!(
        reason("bad..domain").starts_with("invalid domain: "),
        "{}",
        reason("bad..domain")
    );
    // Address rows carry the scan columns, audited.
    let confirmed = rows
        .iter()
        .find(|r| r["domain"] == "single-confirmed.mx.test")
        .expect("row");
    assert_eq!(confirmed["ptr"][0], "mail.single-confirmed.mx.test");
    assert_eq!(confirmed["score"], 25);
    assert_eq!(confirmed["ptr_class"], "custom-mail");
    let no_ptr = rows
        .iter()
        .find(|r| r["domain"] == "single-no-ptr.mx.test")
        .expect("row");
    assert_eq!(no_ptr["findings"][0], "no-ptr");
    assert!(summary.contains("duplicates dropped"), "{summary}");
    assert!(summary.contains("1 duplicates dropped"), "{summary}");
}

#[test]
fn all_mx_adds_the_backup_hosts() {
    let world = World::build();
    let server = serve(&world);
    let (rows, _) = run_mx(&server, &world, &["--all-mx"]);
    let got: BTreeSet<TruthRow> = as_truth(&rows).into_iter().collect();
    let expected: BTreeSet<TruthRow> = world.truth.union(&world.all_mx_extra).cloned().collect();
    assert_eq!(got, expected);
}

#[test]
fn shards_split_the_domain_list_exactly() {
    let world = World::build();
    let server = serve(&world);
    let mut union = Vec::new();
    for index in 0..3 {
        let shard = format!("{index}/3");
        let (rows, _) = run_mx(&server, &world, &["--shard", &shard]);
        union.extend(as_truth(&rows));
    }
    let unique: BTreeSet<TruthRow> = union.iter().cloned().collect();
    assert_eq!(unique.len(), union.len(), "no row in two shards");
    assert_eq!(unique, world.truth);
}

#[test]
fn world_is_not_trivial() {
    let world = World::build();
    assert!(world.truth.len() > 45, "{}", world.truth.len());
    assert_eq!(world.all_mx_extra.len(), 1);
}
