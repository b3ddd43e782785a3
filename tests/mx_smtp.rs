//! `ptrscan mx --smtp` against SMTP responders on loopback addresses
//! (127.0.0.2–7), each playing one kind of server: matching, mismatching,
//! closing at once, never answering, sending garbage, and nobody listening.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use ptrscan::zoneserver::{ZoneServer, ZoneText};

#[derive(Clone, Copy, Debug)]
enum Play {
    Server(&'static str),
    CloseAtOnce,
    Silent,
    Garbage,
}

/// Everything the responders heard, per address: one entry per connection.
type Transcripts = Arc<Mutex<Vec<(Ipv4Addr, Vec<String>)>>>;

fn serve(listener: TcpListener, play: Play, ip: Ipv4Addr, heard: Transcripts) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let heard = Arc::clone(&heard);
            std::thread::spawn(move || {
                let mut lines = Vec::new();
                match play {
                    Play::CloseAtOnce => {}
                    Play::Silent => std::thread::sleep(Duration::from_secs(5)),
                    Play::Garbage => {
                        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
                    }
                    Play::Server(name) => {
                        let _ = write!(stream, "220 {name} ESMTP ready\r\n");
                        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                        let mut line = String::new();
                        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                            let command = line.trim_end().to_owned();
                            line.clear();
                            let reply = if command.starts_with("EHLO") {
                                format!(
                                    "250-{name} greets you\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
                                )
                            } else if command == "QUIT" {
                                "221 bye\r\n".to_owned()
                            } else {
                                "502 not here\r\n".to_owned()
                            };
                            lines.push(command.clone());
                            let _ = stream.write_all(reply.as_bytes());
                            if command == "QUIT" {
                                break;
                            }
                        }
                    }
                }
                heard.lock().expect("lock").push((ip, lines));
            });
        }
    });
}

/// Binds the same free port on 127.0.0.2..=6 (127.0.0.7 stays closed).
fn responders(plays: &[(u8, Play)], heard: &Transcripts) -> u16 {
    'attempt: for _ in 0..50 {
        let first = TcpListener::bind((Ipv4Addr::new(127, 0, 0, plays[0].0), 0)).expect("bind");
        let port = first.local_addr().expect("addr").port();
        let mut listeners = vec![first];
        for (last, _) in &plays[1..] {
            match TcpListener::bind((Ipv4Addr::new(127, 0, 0, *last), port)) {
                Ok(listener) => listeners.push(listener),
                Err(_) => continue 'attempt,
            }
        }
        for (listener, (last, play)) in listeners.into_iter().zip(plays) {
            serve(
                listener,
                *play,
                Ipv4Addr::new(127, 0, 0, *last),
                Arc::clone(heard),
            );
        }
        return port;
    }
    panic!("no common free port on 127.0.0.2-6");
}

const HEAD: &str = "$TTL 300\n@ IN SOA ns.mx.test. hostmaster.mx.test. 1 3600 600 86400 300\n@ IN NS ns.mx.test.\n";

fn world() -> ZoneServer {
    let mut forward = String::from(HEAD);
    let mut reverse = String::from(HEAD);
    for (last, label) in [
        (2, "match"),
        (3, "mismatch"),
        (4, "closes"),
        (5, "silent"),
        (6, "garbage"),
        (7, "refused"),
    ] {
        forward.push_str(&format!(
            "{label}.mx.test. IN MX 10 mail.{label}.mx.test.\nmail.{label}.mx.test. IN A 127.0.0.{last}\n"
        ));
        reverse.push_str(&format!("{last} IN PTR mail.{label}.mx.test.\n"));
    }
    // A second domain on the matching server: probed once for both.
    forward.push_str("also-match.mx.test. IN MX 10 mail.match.mx.test.\n");
    let zones = [
        ZoneText {
            origin: "mx.test",
            text: &forward,
        },
        ZoneText {
            origin: "0.0.127.in-addr.arpa",
            text: &reverse,
        },
    ];
    ZoneServer::start(&zones).expect("world")
}

#[test]
fn smtp_identity_check_against_every_kind_of_server() {
    let heard: Transcripts = Arc::default();
    let port = responders(
        &[
            (2, Play::Server("mail.match.mx.test")),
            (3, Play::Server("other.example")),
            (4, Play::CloseAtOnce),
            (5, Play::Silent),
            (6, Play::Garbage),
        ],
        &heard,
    );
    let server = world();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mx.jsonl");
    let domains = "match.mx.test\nalso-match.mx.test\nmismatch.mx.test\ncloses.mx.test\nsilent.mx.test\ngarbage.mx.test\nrefused.mx.test\n";
    let output = Command::cargo_bin("ptrscan")
        .expect("binary")
        .args([
            "mx",
            "-i",
            "-",
            "--quiet",
            "--resolver",
            &server.addr().to_string(),
        ])
        .args([
            "--smtp",
            "--smtp-port",
            &port.to_string(),
            "--smtp-timeout",
            "1",
        ])
        .args(["--helo-name", "scanner.example.net", "-o"])
        .arg(&out)
        .write_stdin(domains)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = support::read_jsonl(&out);
    assert_eq!(rows.len(), 7);
    let row = |domain: &str| {
        rows.iter()
            .find(|r| r["domain"] == domain)
            .unwrap_or_else(|| panic!("row for {domain}"))
            .clone()
    };
    let findings = |r: &serde_json::Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .expect("list")
            .iter()
            .map(|f| f.as_str().expect("str").to_owned())
            .collect()
    };

    for domain in ["match.mx.test", "also-match.mx.test"] {
        let matching = row(domain);
        assert_eq!(matching["banner_host"], "mail.match.mx.test");
        assert_eq!(matching["ehlo_host"], "mail.match.mx.test");
        assert!(matching["smtp_error"].is_null());
        assert!(findings(&matching).is_empty(), "{matching}");
        assert_eq!(matching["score"], 25);
    }
    let mismatching = row("mismatch.mx.test");
    assert_eq!(mismatching["banner_host"], "other.example");
    assert_eq!(mismatching["ehlo_host"], "other.example");
    assert_eq!(findings(&mismatching), ["ehlo-mismatch"]);
    assert_eq!(mismatching["severity"], "medium");
    assert_eq!(mismatching["score"], 22);
    for (domain, error) in [
        ("closes.mx.test", "closed"),
        ("silent.mx.test", "timeout"),
        ("garbage.mx.test", "garbage"),
        ("refused.mx.test", "refused"),
    ] {
        let failed = row(domain);
        assert_eq!(failed["smtp_error"], error, "{failed}");
        assert!(failed["ehlo_host"].is_null(), "{failed}");
        // Nothing seen, nothing claimed: no EHLO finding, full score.
        assert!(
            !findings(&failed).contains(&"ehlo-mismatch".to_owned()),
            "{failed}"
        );
        assert_eq!(failed["fcrdns"], "confirmed");
    }

    let heard = heard.lock().expect("lock");
    let matching: Vec<&Vec<String>> = heard
        .iter()
        .filter(|(ip, _)| *ip == Ipv4Addr::new(127, 0, 0, 2))
        .map(|(_, lines)| lines)
        .collect();
    assert_eq!(matching.len(), 1, "one connection per address: {heard:?}");
    assert_eq!(
        *matching[0],
        ["EHLO scanner.example.net", "QUIT"],
        "never anything else"
    );
    for (_, lines) in heard.iter() {
        assert!(
            lines.iter().all(|l| !l.starts_with("MAIL")
                && !l.starts_with("RCPT")
                && !l.starts_with("DATA"))
        );
    }
}

#[test]
fn smtp_is_off_by_default_and_its_flags_are_checked() {
    let server = world();
    let output = Command::cargo_bin("ptrscan")
        .expect("binary")
        .args([
            "mx",
            "match.mx.test",
            "--quiet",
            "--resolver",
            &server.addr().to_string(),
        ])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let header = lines.next().expect("header");
    assert!(
        header.ends_with("banner_host,ehlo_host,smtp_error"),
        "{header}"
    );
    assert!(
        lines.next().expect("row").ends_with(",,,"),
        "no SMTP data without --smtp"
    );

    for args in [
        ["--helo-name", "bad name\r\nMAIL FROM:<x>"],
        ["--smtp-concurrency", "0"],
        ["--smtp-timeout", "0"],
    ] {
        let output = Command::cargo_bin("ptrscan")
            .expect("binary")
            .args(["mx", "match.mx.test", "--smtp", "--resolver", "127.0.0.1:9"])
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(args[0]), "{stderr}");
    }
}
