//! Throughput of the PTR classifier, which runs once per scanned address at
//! Internet scale: the target is at least a million names per second per core.
//! Names are invented (documentation address ranges) and mix every encoding.

use std::net::IpAddr;

use divan::{Bencher, black_box, counter::ItemsCount};
use ptrscan::classify::Classifier;

fn main() {
    divan::main();
}

const NAMES: &[(&str, &str)] = &[
    ("198-51-100-20.dsl.example.net", "198.51.100.20"),
    ("c-198-51-100-21.hsd1.ca.comcast.net", "198.51.100.21"),
    (
        "pool-198-51-100-22.bstnma.fios.verizon.net",
        "198.51.100.22",
    ),
    ("cpe-198-51-100-23.socal.res.rr.com", "198.51.100.23"),
    ("198-051-100-024.res.spectrum.com", "198.51.100.24"),
    ("pc6336419.dip0.t-ipconnect.de", "198.51.100.25"),
    ("198051100026.pool.example.at", "198.51.100.26"),
    ("20.100.51.198.dynamic.example.net", "198.51.100.20"),
    ("198x51x100x27.ap198.ftth.example.ne.jp", "198.51.100.27"),
    ("athedsl-4558735.home.example.gr", "198.51.100.28"),
    ("ec2-198-51-100-29.compute-1.amazonaws.com", "198.51.100.29"),
    ("ip-10-0-74-173.us-east-2.compute.internal", "10.0.74.173"),
    ("vmi660873.contaboserver.net", "203.0.113.30"),
    ("static.30.113.0.203.clients.your-server.de", "203.0.113.30"),
    ("unassigned.example.net", "203.0.113.31"),
    (
        "198-51-100-32-static.hfc.comcastbusiness.net",
        "198.51.100.32",
    ),
    ("2001-db8--1192.ip6.example.net", "2001:db8::1192"),
    (
        "2001-0db8-0000-0000-0000-0000-0000-0001.rev.example.fr",
        "2001:db8::1",
    ),
    (
        "20010db8000000000000000000000001.dsl.pool.example.hu",
        "2001:db8::1",
    ),
    ("o198-51-100-33.outbound-mail.sendgrid.net", "198.51.100.33"),
    ("a11-17.smtp-out.amazonses.com", "203.0.113.17"),
    ("mail-yw1-f170.google.com", "203.0.113.170"),
    ("mail.example.com", "192.0.2.1"),
    ("mx1.example.org", "192.0.2.2"),
    ("smtp-out-01.mail.example.net", "192.0.2.3"),
    ("www.example.com", "192.0.2.4"),
    ("home.example.net", "192.0.2.5"),
    ("vps3.example.org", "192.0.2.6"),
    ("validation-mx02.prod.example.com", "192.0.2.7"),
    ("S01060123456789ab.cg.shawcable.net", "192.0.2.8"),
];

fn corpus() -> Vec<(String, Option<IpAddr>)> {
    NAMES
        .iter()
        .map(|(name, address)| (name.to_string(), address.parse().ok()))
        .collect()
}

#[divan::bench]
fn classify_mixed_with_ip(bencher: Bencher) {
    let classifier = Classifier::new();
    let names = corpus();
    bencher
        .counter(ItemsCount::new(names.len()))
        .bench_local(|| {
            for (name, address) in &names {
                black_box(classifier.classify(black_box(name), black_box(*address)));
            }
        });
}

#[divan::bench]
fn classify_mixed_without_ip(bencher: Bencher) {
    let classifier = Classifier::new();
    let names = corpus();
    bencher
        .counter(ItemsCount::new(names.len()))
        .bench_local(|| {
            for (name, _) in &names {
                black_box(classifier.classify(black_box(name), None));
            }
        });
}

#[divan::bench]
fn build_classifier() -> Classifier {
    Classifier::new()
}
