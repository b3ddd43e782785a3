//! `ptrscan mx --smtp` against SMTP responders on loopback addresses
//! (127.0.0.2–9), each playing one kind of server: matching, mismatching,
//! closing at once, never answering, sending garbage, nobody listening,
//! greeting with 554, and refusing the EHLO name.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use ptrscan::zoneserver::{ZoneServer, ZoneText};

#[derive(Clone, Copy, Debug)]
enum Play {
    Server(&'static str),
    /// Greets with 554 and then, as RFC 5321 §3.1 has it, waits for QUIT.
    RejectGreeting(&'static str),
    /// Greets with 220, then refuses the EHLO name with 504, as Postfix's
    /// `reject_non_fqdn_helo_hostname` does.
    RejectEhlo(&'static str),
    CloseAtOnce,
    Silent,
    Garbage,
}

/// Everything the responders heard, per address: one entry per connection.
type Transcripts = Arc<Mutex<Vec<(Ipv4Addr, Vec<String>)>>>;

/// Sends `greeting`, then answers each command line until QUIT (221) or
/// the end of the connection: EHLO with `ehlo`, anything else with 503.
/// Returns the lines heard.
fn converse(mut stream: TcpStream, greeting: &str, ehlo: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let _ = stream.write_all(greeting.as_bytes());
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
        let command = line.trim_end().to_owned();
        line.clear();
        let reply = if command.starts_with("EHLO") {
            ehlo
        } else if command == "QUIT" {
            "221 bye\r\n"
        } else {
            "503 bad sequence of commands\r\n"
        };
        lines.push(command.clone());
        let _ = stream.write_all(reply.as_bytes());
        if command == "QUIT" {
            break;
        }
    }
    lines
}

fn serve(listener: TcpListener, play: Play, ip: Ipv4Addr, heard: Transcripts) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let heard = Arc::clone(&heard);
            std::thread::spawn(move || {
                let lines = match play {
                    Play::CloseAtOnce => Vec::new(),
                    Play::Silent => {
                        std::thread::sleep(Duration::from_secs(5));
                        Vec::new()
                    }
                    Play::Garbage => {
                        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
                        Vec::new()
                    }
                    Play::Server(name) => converse(
                        stream,
                        &format!("220 {name} ESMTP ready\r\n"),
                        &format!("250-{name} greets you\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"),
                    ),
                    Play::RejectGreeting(name) => converse(
                        stream,
                        &format!("554-{name} no SMTP service here\r\n554 5.3.2 go away\r\n"),
                        "503 5.5.1 bad sequence of commands\r\n",
                    ),
                    Play::RejectEhlo(name) => converse(
                        stream,
                        &format!("220 {name} ESMTP\r\n"),
                        "504 5.5.2 <vm>: Helo command rejected: need fully-qualified hostname\r\n",
                    ),
                };
                heard.lock().expect("lock").push((ip, lines));
            });
        }
    });
}

/// The transcripts of `ip`'s connections once `count` have ended (a
/// responder records a connection after ptrscan has left it).
fn transcripts(heard: &Transcripts, ip: Ipv4Addr, count: usize) -> Vec<Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<Vec<String>> = heard
            .lock()
            .expect("lock")
            .iter()
            .filter(|(from, _)| *from == ip)
            .map(|(_, lines)| lines.clone())
            .collect();
        if found.len() >= count || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Binds the same free port on the plays' addresses (127.0.0.7 stays closed).
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
    panic!("no common free port on 127.0.0.2-9");
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
        (8, "banned"),
        (9, "picky"),
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
            (8, Play::RejectGreeting("mail.banned.mx.test")),
            (9, Play::RejectEhlo("mail.picky.mx.test")),
        ],
        &heard,
    );
    let server = world();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mx.jsonl");
    let domains = "match.mx.test\nalso-match.mx.test\nmismatch.mx.test\ncloses.mx.test\nsilent.mx.test\ngarbage.mx.test\nrefused.mx.test\nbanned.mx.test\npicky.mx.test\n";
    // Not --quiet: the summary on standard error is checked too.
    let output = Command::cargo_bin("ptrscan")
        .expect("binary")
        .args(["mx", "-i", "-", "--resolver", &server.addr().to_string()])
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
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let rows = support::read_jsonl(&out);
    assert_eq!(rows.len(), 9);
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
        ("banned.mx.test", "reply 554"),
        ("picky.mx.test", "reply 504"),
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
    // The greeting before the refused EHLO is kept.
    assert_eq!(row("picky.mx.test")["banner_host"], "mail.picky.mx.test");
    assert!(row("banned.mx.test")["banner_host"].is_null());

    let matching = transcripts(&heard, Ipv4Addr::new(127, 0, 0, 2), 1);
    assert_eq!(
        matching.len(),
        1,
        "one connection per address: {matching:?}"
    );
    assert_eq!(
        matching[0],
        ["EHLO scanner.example.net", "QUIT"],
        "never anything else"
    );
    // After a 554 greeting: QUIT only (RFC 5321 §3.1); after a refused
    // EHLO: QUIT too, not a dropped connection.
    assert_eq!(
        transcripts(&heard, Ipv4Addr::new(127, 0, 0, 8), 1),
        [["QUIT"]]
    );
    assert_eq!(
        transcripts(&heard, Ipv4Addr::new(127, 0, 0, 9), 1),
        [["EHLO scanner.example.net", "QUIT"]]
    );
    for (_, lines) in heard.lock().expect("lock").iter() {
        assert!(
            lines.iter().all(|l| !l.starts_with("MAIL")
                && !l.starts_with("RCPT")
                && !l.starts_with("DATA"))
        );
    }

    // The summary counts each probed address once, and its elapsed time
    // covers the SMTP phase (the silent server's 1 s timeout at least).
    assert!(
        stderr.contains(
            "SMTP check (one connection per distinct primary MX address):\n  probed 8, answered 2, timeouts 1, refused 1, other errors 4 (closed 1, garbage 1, reply 504 1, reply 554 1)\n  mismatches 1 (banner/EHLO name not a PTR name of the address: ehlo-mismatch)\n"
        ),
        "{stderr}"
    );
    let elapsed: f64 = stderr
        .lines()
        .find_map(|line| line.trim().strip_prefix("elapsed "))
        .and_then(|rest| rest.split('s').next())
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("no elapsed line: {stderr}"));
    assert!(
        elapsed >= 1.0,
        "elapsed {elapsed} s leaves out the SMTP phase: {stderr}"
    );
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

    const FLAGS: [&str; 5] = [
        "--smtp-port",
        "--helo-name",
        "--smtp-concurrency",
        "--smtp-rate",
        "--smtp-timeout",
    ];
    // One line each, naming its own option (and no other) and its range.
    let refused = |args: &[&str], flag: &str, expected: &str| {
        let output = Command::cargo_bin("ptrscan")
            .expect("binary")
            .args(["mx", "match.mx.test", "--resolver", "127.0.0.1:9"])
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        for other in FLAGS.iter().filter(|other| **other != flag) {
            assert!(!stderr.contains(other), "{args:?}: {stderr}");
        }
    };
    for (flag, value, expected) in [
        (
            "--helo-name",
            "bad name\r\nMAIL FROM:<x>",
            "invalid --helo-name",
        ),
        (
            "--smtp-port",
            "0",
            "invalid --smtp-port \"0\": give a TCP port from 1 to 65535",
        ),
        (
            "--smtp-concurrency",
            "0",
            "invalid --smtp-concurrency \"0\": give a whole number of connections open at once, 1 to 10000",
        ),
        ("--smtp-concurrency", "10001", "1 to 10000"),
        (
            "--smtp-rate",
            "0",
            "invalid --smtp-rate \"0\": give new connections per second, from 0.01 to 100000",
        ),
        (
            "--smtp-timeout",
            "0",
            "invalid --smtp-timeout \"0\": give seconds, more than 0 and at most 600",
        ),
    ] {
        refused(&["--smtp", flag, value], flag, expected);
    }
    // Without --smtp, its options are refused, not ignored.
    for (flag, value) in FLAGS
        .into_iter()
        .zip(["2525", "scanner.example.net", "4", "1", "3"])
    {
        refused(
            &[flag, value],
            flag,
            &format!("{flag} is an option of the SMTP check: add --smtp to run it, or drop {flag}"),
        );
    }
}
