//! Invented examples (documentation address ranges only) for every encoding
//! and reason code, so a change in behaviour shows up as a named case rather
//! than as a shift in the real-name evaluation.

use std::net::IpAddr;

use proptest::prelude::*;

use super::*;

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().expect("test address parses"))
}

struct Case {
    name: &'static str,
    ip: Option<IpAddr>,
    class: PtrClass,
    reasons: &'static [&'static str],
}

fn case(
    name: &'static str,
    ip: Option<IpAddr>,
    class: PtrClass,
    reasons: &'static [&'static str],
) -> Case {
    Case {
        name,
        ip,
        class,
        reasons,
    }
}

#[test]
fn table_of_encodings_tokens_and_counter_examples() {
    use PtrClass::*;
    let v4 = ip("198.51.100.20");
    let cases = [
        // Address encodings.
        case(
            "198-51-100-20.dsl.example.net",
            v4,
            Dynamic,
            &["ip-embedded:dashed", "token:dsl"],
        ),
        case(
            "198.51.100.20.example.net",
            v4,
            Dynamic,
            &["ip-embedded:dotted"],
        ),
        case(
            "host_198_51_100_20.example.net",
            v4,
            Dynamic,
            &["ip-embedded:underscore", "token:host"],
        ),
        case(
            "198x51x100x20.ftth.example.jp",
            v4,
            Dynamic,
            &["ip-embedded:x-separated", "token:fiber"],
        ),
        case(
            "modem20.100-51-198.example.ca",
            v4,
            Dynamic,
            &["ip-embedded:mixed", "ip-embedded:reversed"],
        ),
        case(
            "20.100.51.198.dynamic.example.net",
            v4,
            Dynamic,
            &["ip-embedded:dotted", "ip-embedded:reversed", "token:dyn"],
        ),
        case(
            "198-051-100-020.res.example.com",
            v4,
            Dynamic,
            &[
                "ip-embedded:dashed",
                "ip-embedded:zero-padded",
                "token:residential",
            ],
        ),
        case(
            "pc6336414.dip0.example.de",
            v4,
            Dynamic,
            &["ip-embedded:hex"],
        ),
        case(
            "h146433c6.example.net",
            v4,
            Dynamic,
            &["ip-embedded:hex", "ip-embedded:reversed"],
        ),
        case(
            "ip3325256724.cable.example.net",
            v4,
            Dynamic,
            &["ip-embedded:decimal", "token:cable"],
        ),
        case(
            "198051100020.pool.example.at",
            v4,
            Dynamic,
            &["ip-embedded:packed", "token:pool"],
        ),
        case(
            "kd198051100020.ppp-bb.example.jp",
            v4,
            Dynamic,
            &["ip-embedded:packed", "token:ppp", "token:broadband"],
        ),
        case(
            "cust-100-20.example.cz",
            v4,
            Dynamic,
            &["ip-embedded:partial", "token:client"],
        ),
        case(
            "town100020.example.ne.jp",
            v4,
            Dynamic,
            &["ip-embedded:packed", "ip-embedded:partial"],
        ),
        case(
            "h20.s1.ts31.example.net",
            v4,
            CustomOther,
            &["ip-embedded:last-octet", "structure:many-labels"],
        ),
        case(
            "2001-db8--1.ip6.example.net",
            ip("2001:db8::1"),
            Dynamic,
            &["ip-embedded:ipv6"],
        ),
        case(
            "2001-0DB8-0000-0000-0000-0000-0000-0001.rev.example.fr",
            ip("2001:db8::1"),
            Dynamic,
            &["ip-embedded:ipv6"],
        ),
        case(
            "20010db8000000000000000000000001.dsl.pool.example.hu",
            ip("2001:db8::1"),
            Dynamic,
            &["ip-embedded:ipv6", "token:dsl", "token:pool"],
        ),
        case(
            "2001-db8-0-7.cable.example.net",
            ip("2001:db8:0:7::99"),
            Dynamic,
            &["ip-embedded:ipv6", "ip-embedded:partial"],
        ),
        case(
            "2001-db8--5.example.net",
            None,
            Dynamic,
            &["ip-embedded:ipv6"],
        ),
        case(
            "192-0-2-55.dialup.example.pk",
            v4,
            Dynamic,
            &["ip-embedded:dashed", "ip-embedded:mismatch", "token:dial"],
        ),
        case(
            "192-0-2-55.example.net",
            None,
            Dynamic,
            &["ip-embedded:dashed"],
        ),
        case(
            "ip-198-51-100-20.eu",
            v4,
            HostingCloud,
            &["ip-embedded:dashed", "name:bare-domain"],
        ),
        // Hex split by separators, reversed, or three bytes of it.
        case("c6.33.64.14.example.net", v4, Dynamic, &["ip-embedded:hex"]),
        case(
            "14.64.33.c6.example.net",
            v4,
            Dynamic,
            &["ip-embedded:hex", "ip-embedded:reversed"],
        ),
        case(
            "ip-c63364.example.net",
            v4,
            Dynamic,
            &["ip-embedded:hex", "ip-embedded:partial", "token:ip"],
        ),
        // IPv6 nibbles, and a packed prefix of the given IPv6 address.
        case(
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.example.net",
            ip("2001:db8::1"),
            Dynamic,
            &[
                "ip-embedded:ipv6",
                "ip-embedded:nibbles",
                "ip-embedded:reversed",
            ],
        ),
        case(
            "2.0.0.0.8.b.d.0.1.0.0.2.v6.example.net",
            ip("2001:db8:2::1"),
            Dynamic,
            &[
                "ip-embedded:nibbles",
                "ip-embedded:partial",
                "ip-embedded:reversed",
            ],
        ),
        case(
            "2.0.0.1.0.d.b.8.0.0.0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.example.net",
            None,
            Dynamic,
            &["ip-embedded:nibbles"],
        ),
        case(
            "p20010db80002abcd.dip0.example.de",
            ip("2001:db8:2:abcd::1"),
            Dynamic,
            &["ip-embedded:ipv6", "ip-embedded:partial"],
        ),
        // Three octets in a row: unchecked, alone not enough.
        case(
            "red-198-51-100.example.net",
            None,
            CustomOther,
            &["ip-embedded:partial"],
        ),
        case(
            "cust-203-0-113.example.net",
            v4,
            Dynamic,
            &["ip-embedded:partial", "token:client"],
        ),
        // The last octet as a number of its own, with a weak word.
        case(
            "client-20.example.net",
            v4,
            Dynamic,
            &["ip-embedded:last-octet", "token:client"],
        ),
        case(
            "web20.example.com",
            v4,
            CustomOther,
            &["ip-embedded:last-octet"],
        ),
        // Glued to a provider word it counts as much; to another word, less.
        case(
            "host20.example.com.ar",
            v4,
            Dynamic,
            &["ip-embedded:last-octet", "token:host"],
        ),
        case(
            "varna20.example.bg",
            v4,
            CustomOther,
            &["ip-embedded:last-octet"],
        ),
        // Access words.
        case(
            "dhcp-100-20.example.edu",
            v4,
            Dynamic,
            &["token:dhcp", "ip-embedded:partial"],
        ),
        case(
            "adsl-198-51-100-20.example.com",
            v4,
            Dynamic,
            &["token:dsl"],
        ),
        case(
            "athedsl-4558735.home.example.gr",
            None,
            Dynamic,
            &["token:dsl", "structure:long-digits", "token:residential"],
        ),
        case(
            "179-125-79-244-dinamico.example.net.br",
            None,
            Dynamic,
            &["token:dyn"],
        ),
        case(
            "abc193.neo.adsl.example.pl",
            None,
            Dynamic,
            &["token:dsl", "structure:many-labels"],
        ),
        case(
            "user-12l2ihc.cable.example.com",
            None,
            Dynamic,
            &["token:user", "token:cable"],
        ),
        case(
            "s01060123456789ab.cable.example.net",
            None,
            Dynamic,
            &["structure:long-hex", "token:cable"],
        ),
        case(
            "cpe-198-51-100-20.wifi.example.net",
            v4,
            Dynamic,
            &["token:cpe", "token:wireless"],
        ),
        case(
            "mobile-198-51-100-20.example.net",
            v4,
            Dynamic,
            &["token:mobile"],
        ),
        case(
            "wl-pool2-ont-014.example.de",
            None,
            Dynamic,
            &["token:wireless", "token:pool"],
        ),
        case(
            "pl027.nas12.bras.example.jp",
            ip("192.0.2.27"),
            Dynamic,
            &["token:bras", "ip-embedded:last-octet"],
        ),
        case(
            "00-04-bd-d2-e0-a3.cpe.example.net",
            None,
            Dynamic,
            &["structure:long-hex", "token:cpe"],
        ),
        case(
            "00-04-bd-d2-e0-a3.k317.example.dk",
            None,
            CustomOther,
            &["structure:long-hex"],
        ),
        // More languages and technologies.
        case("a1.fttc.example.net", None, Dynamic, &["token:fiber"]),
        case("x7.dinamikus.example.hu", None, Dynamic, &["token:dyn"]),
        case("p12.ippool.example.net", None, Dynamic, &["token:pool"]),
        case("q4.einwahl.example.de", None, Dynamic, &["token:dial"]),
        case(
            "z9.statico.example.it",
            None,
            StaticGeneric,
            &["placeholder:static"],
        ),
        // A lone label made only of provider words is a placeholder.
        case(
            "static-ip.example.net",
            None,
            StaticGeneric,
            &["placeholder:static", "token:ip"],
        ),
        case(
            "dsl-pool.example.net",
            None,
            Dynamic,
            &["token:dsl", "token:pool"],
        ),
        case(
            "home-server.example.com",
            None,
            CustomOther,
            &["token:residential", "hosting-token:server"],
        ),
        case(
            "vps-ovh.example.net",
            None,
            CustomOther,
            &["hosting-token:vps"],
        ),
        // Hosting and placeholders.
        case(
            "vps-198-51-100-20.example.net",
            v4,
            HostingCloud,
            &["hosting-token:vps"],
        ),
        case(
            "srv-198-51-100-20.compute.example.net",
            v4,
            HostingCloud,
            &["hosting-token:server", "hosting-token:cloud"],
        ),
        case(
            "dedi-198-51-100-20.example.net",
            v4,
            HostingCloud,
            &["hosting-token:dedicated"],
        ),
        case(
            "198-51-100-20.hosted.example.net",
            v4,
            HostingCloud,
            &["hosting-token:hosted"],
        ),
        case(
            "unassigned.example.net",
            None,
            StaticGeneric,
            &["placeholder:unassigned"],
        ),
        case(
            "unassigned-102-a.fiber.example.net",
            None,
            StaticGeneric,
            &["placeholder:unassigned", "token:fiber"],
        ),
        case(
            "reverse.example.fr",
            None,
            StaticGeneric,
            &["placeholder:reverse"],
        ),
        case(
            "static.zone.example.by",
            None,
            StaticGeneric,
            &["placeholder:static"],
        ),
        case(
            "198-51-100-20-static.example.net",
            v4,
            StaticGeneric,
            &["placeholder:static"],
        ),
        case(
            "biz-198-51-100-20.example.net",
            v4,
            StaticGeneric,
            &["placeholder:business"],
        ),
        case(
            "notset.example.net",
            None,
            StaticGeneric,
            &["placeholder:unassigned"],
        ),
        case(
            "no-reverse-dns.example.net",
            None,
            StaticGeneric,
            &["placeholder:unassigned"],
        ),
        // A numbered machine under a hosting business's domain.
        case(
            "s12345.examplehost.net",
            None,
            HostingCloud,
            &["structure:hosting-domain-id", "structure:long-digits"],
        ),
        case("web01.examplecloud.com", None, CustomOther, &[]),
        // A hosting or platform word numbered by the hoster, under a domain
        // named for hosting, web or a control panel: a rented machine.
        case(
            "server33.examplehost.gr",
            None,
            HostingCloud,
            &["hosting-token:server", "structure:hosting-domain-id"],
        ),
        case(
            "linux607.exampleserver.gr",
            None,
            HostingCloud,
            &["hosting-token:platform", "structure:hosting-domain-id"],
        ),
        case(
            "plesk4.exampleweb.com.br",
            None,
            HostingCloud,
            &["hosting-token:platform", "structure:hosting-domain-id"],
        ),
        // The same words under an operator's own domain stay custom.
        case(
            "vps3.jansmith.net",
            None,
            CustomOther,
            &["hosting-token:vps"],
        ),
        case(
            "linux2.physics.example.edu",
            None,
            CustomOther,
            &["hosting-token:platform"],
        ),
        // `mta` glued into a relay's name is a server word.
        case(
            "resqmta-po-07v.example.net",
            None,
            CustomMail,
            &["server-token:mta"],
        ),
        case(
            "hosted-by.example.com",
            None,
            HostingCloud,
            &["placeholder:hosted-by"],
        ),
        // Access words added with the development set (tests/data).
        case(
            "cbl-sd-02-20.example.com.do",
            v4,
            Dynamic,
            &["token:cable", "ip-embedded:last-octet"],
        ),
        case(
            "evdo-198-51-100-20.example.net",
            v4,
            Dynamic,
            &["token:mobile", "ip-embedded:dashed"],
        ),
        case(
            "kablo-20.example.com.tr",
            v4,
            Dynamic,
            &["token:cable", "ip-embedded:last-octet"],
        ),
        case("pptp-198-51-100-20.example.ru", v4, Dynamic, &["token:ppp"]),
        case(
            "198-51-100-20.empresas.example.es",
            v4,
            StaticGeneric,
            &["placeholder:business"],
        ),
        case(
            "198-51-100-20.ded.example.net",
            v4,
            HostingCloud,
            &["hosting-token:dedicated"],
        ),
        // An opaque line id with an ISP access suffix.
        case(
            "h53n2fls32o828.telia.com",
            None,
            Dynamic,
            &["structure:opaque-id", "suffix:isp"],
        ),
        // Provider suffixes.
        case(
            "ec2-198-51-100-20.compute-1.amazonaws.com",
            v4,
            HostingCloud,
            &["suffix:cloud", "hosting-token:cloud"],
        ),
        case(
            "ec2-198-51-100-20.eu-west-1.compute.amazonaws.com",
            v4,
            HostingCloud,
            &["suffix:cloud", "ip-embedded:dashed"],
        ),
        case(
            "h1234567.stratoserver.net",
            None,
            HostingCloud,
            &["suffix:hosting", "structure:long-digits"],
        ),
        case(
            "c-198-51-100-20.hsd1.ca.comcast.net",
            v4,
            Dynamic,
            &["suffix:isp", "token:cable"],
        ),
        case(
            "198-51-100-20-static.hfc.comcastbusiness.net",
            v4,
            StaticGeneric,
            &["suffix:isp-business"],
        ),
        case(
            "x1-20.tx.covad.net",
            v4,
            Dynamic,
            &["suffix:isp", "ip-embedded:last-octet"],
        ),
        case(
            "dd1234.kasserver.com",
            None,
            HostingCloud,
            &["suffix:hosting"],
        ),
        case(
            "o198-51-100-20.outbound-mail.sendgrid.net",
            v4,
            EspInfra,
            &["suffix:esp", "ip-embedded:dashed"],
        ),
        case(
            "a198-51.smtp-out.amazonses.com",
            v4,
            EspInfra,
            &["suffix:esp", "ip-embedded:partial"],
        ),
        case("mail-yw1-f170.google.com", None, EspInfra, &["suffix:esp"]),
        // Counter-examples: the operator's own names.
        case(
            "mail.dsl-provider.example",
            v4,
            CustomMail,
            &["server-token:mail"],
        ),
        case("mx1.example.com", v4, CustomMail, &["server-token:mx"]),
        case("MX1.EXAMPLE.COM.", v4, CustomMail, &["server-token:mx"]),
        case("smtp.example.org", None, CustomMail, &["server-token:smtp"]),
        case("mta2.example.org", None, CustomMail, &["server-token:mta"]),
        case(
            "relay.example.org",
            None,
            CustomMail,
            &["server-token:relay"],
        ),
        case(
            "outbound.example.org",
            None,
            CustomMail,
            &["server-token:outbound"],
        ),
        case(
            "bounce.example.org",
            None,
            CustomMail,
            &["server-token:bounce"],
        ),
        case(
            "exchange.example.org",
            None,
            CustomMail,
            &["server-token:exchange"],
        ),
        case(
            "smtp-out-198-51-100-20.example.net",
            v4,
            CustomMail,
            &[
                "server-token:smtp",
                "server-token:outbound",
                "ip-embedded:dashed",
            ],
        ),
        case(
            "mx-ll-198-51-100-20.dynamic.example.net",
            v4,
            Dynamic,
            &["server-token:mx", "ip-embedded:dashed", "token:dyn"],
        ),
        case(
            "mx-198-51-100-20.example.net",
            v4,
            CustomMail,
            &["server-token:mx", "ip-embedded:dashed"],
        ),
        case("altmx.example.com", None, CustomMail, &["server-token:mx"]),
        case(
            "it-ex2016-srv3.campus.example.edu",
            None,
            CustomMail,
            &["server-token:exchange"],
        ),
        // Provider zones from suffixes.tsv: machine names a cloud or hoster
        // gives, with or without the address.
        case(
            "ip-198-51-100-20.eu-west-1.compute.internal",
            v4,
            HostingCloud,
            &["ip-embedded:dashed", "suffix:cloud"],
        ),
        case(
            "ip-198-51-100-20.ec2.internal",
            v4,
            HostingCloud,
            &["suffix:cloud"],
        ),
        case(
            "20.100.51.198.bc.googleusercontent.com",
            v4,
            HostingCloud,
            &["ip-embedded:reversed", "suffix:cloud"],
        ),
        case(
            "198-51-100-20.ip.linodeusercontent.com",
            v4,
            HostingCloud,
            &["suffix:cloud"],
        ),
        // Linode's default before ip.linodeusercontent.com: the serial and
        // the last octet only, so the zone alone says who named it.
        case(
            "li123-20.members.linode.com",
            v4,
            HostingCloud,
            &["suffix:cloud"],
        ),
        case(
            "198-51-100-20.static.cloud-ips.com",
            v4,
            HostingCloud,
            &["suffix:cloud"],
        ),
        case(
            "198-51-100-20.rev.poneytelecom.eu",
            v4,
            HostingCloud,
            &["suffix:hosting"],
        ),
        case(
            "ec2-198-51-100-20.cn-north-1.compute.amazonaws.com.cn",
            v4,
            HostingCloud,
            &["suffix:cloud"],
        ),
        case(
            "vmi123456.contaboserver.net",
            None,
            HostingCloud,
            &["suffix:hosting"],
        ),
        case(
            "ip-198-51-100-20.ip.secureserver.net",
            v4,
            HostingCloud,
            &["suffix:hosting"],
        ),
        // Words of the generic-rDNS rule files (fqrdns.pcre, 20_dynrdns.cf,
        // rspamd hfilter).
        case(
            "198-51-100-20.vpdn.example.net",
            v4,
            Dynamic,
            &["ip-embedded:dashed", "token:dial"],
        ),
        case(
            "etth-198-51-100-20.example.net",
            v4,
            Dynamic,
            &["token:fiber"],
        ),
        case("cmodem20-100.example.net", v4, Dynamic, &["token:cable"]),
        case(
            "homeuser20.example.net",
            None,
            Dynamic,
            &["token:residential"],
        ),
        case(
            "fixip-198-51-100-20.example.net",
            v4,
            StaticGeneric,
            &["placeholder:static"],
        ),
        case(
            "unregistered.example.net",
            None,
            StaticGeneric,
            &["placeholder:unassigned"],
        ),
        case(
            "198-51-100-20.genericrev.example.net",
            v4,
            Dynamic,
            &["placeholder:reverse"],
        ),
        case("din-198-51-100-20.example.net", v4, Dynamic, &["token:dyn"]),
        case("dinner.example.com", None, CustomOther, &[]),
        // Numbered lines under an ISP zone of the suffix table.
        case(
            "xy3-c200-17.telia.com",
            None,
            Dynamic,
            &["suffix:isp", "structure:numbered-line"],
        ),
        case(
            "h20.s1.ts31.hinet.net",
            None,
            Dynamic,
            &["suffix:isp", "structure:numbered-line"],
        ),
        case("ns1.telia.com", None, CustomOther, &["suffix:isp"]),
        case(
            "smtp1-2.telia.com",
            None,
            CustomMail,
            &["server-token:smtp", "suffix:isp"],
        ),
        // Outbound pools of mail filtering services stay custom.
        case("p01m123.mxlogic.net", None, EspInfra, &["suffix:esp"]),
        case(
            "mail198.sea51.mcsv.net",
            ip("198.51.100.198"),
            EspInfra,
            &["suffix:esp"],
        ),
        case("www.example.com", v4, CustomOther, &[]),
        case("dynamics.example.com", None, CustomOther, &[]),
        case(
            "home.example.net",
            None,
            CustomOther,
            &["token:residential"],
        ),
        case("adsl.example.name", None, CustomOther, &["token:dsl"]),
        case(
            "vps3.example.net",
            None,
            CustomOther,
            &["hosting-token:vps"],
        ),
        case("client01.example.is", None, CustomOther, &["token:client"]),
        case("host.dyndns.org", None, CustomOther, &["token:host"]),
        case("example.com", v4, CustomOther, &["name:bare-domain"]),
        case("", v4, CustomOther, &["name:invalid"]),
        case(".", None, CustomOther, &["name:invalid"]),
    ];
    let classifier = Classifier::new();
    let mut failures = Vec::new();
    for case in &cases {
        let verdict = classifier.classify(case.name, case.ip);
        let missing: Vec<&str> = case
            .reasons
            .iter()
            .copied()
            .filter(|reason| !verdict.reasons.contains(reason))
            .collect();
        if verdict.class != case.class || !missing.is_empty() {
            failures.push(format!(
                "{:?}: want {} got {} (score {}), missing {:?}, reasons {:?}",
                case.name, case.class, verdict.class, verdict.score, missing, verdict.reasons
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Signals that must stay silent: each new encoding is specific enough only
/// under its conditions.
#[test]
fn new_signals_stay_silent_where_they_should() {
    let classifier = Classifier::new();
    let cases: [(&str, Option<IpAddr>, &str); 13] = [
        // One digit run is a counter, not a line number; server words and
        // names outside the ISP zones of the suffix table stay out.
        ("ns1.telia.com", None, "structure:numbered-line"),
        ("smtp1-2.telia.com", None, "structure:numbered-line"),
        ("web1-db2.example.net", None, "structure:numbered-line"),
        // Words match on letter boundaries only.
        ("dinner.example.com", None, "token:dyn"),
        // 18.52.86.120 is 0x12345678: all-decimal hex bytes would match plain numbers.
        ("s123456.example.com", ip("18.52.86.120"), "ip-embedded:hex"),
        // Nibbles of the given address are not another address.
        (
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.example.net",
            ip("2001:db8::1"),
            "ip-embedded:mismatch",
        ),
        // Version-like triples are not octets.
        ("v1-2-3.example.com", None, "ip-embedded:partial"),
        // Matching octets are not an unchecked triple.
        (
            "pool-198-51-100.example.net",
            ip("198.51.100.20"),
            "ip-embedded:mismatch",
        ),
        // Server words keep hosters' own mail hosts out.
        (
            "smtp12345.examplehost.net",
            None,
            "structure:hosting-domain-id",
        ),
        // Too few digits to be a machine number.
        (
            "web01.examplecloud.com",
            None,
            "structure:hosting-domain-id",
        ),
        // A counter or two is not an opaque line id.
        ("w2k3srv1.example.com", None, "structure:opaque-id"),
        ("web01-db02.example.com", None, "structure:opaque-id"),
        // All-hex parts are hashes, counted as long-hex instead.
        ("iva8-56bd2512c3ca.example.net", None, "structure:opaque-id"),
    ];
    for (name, address, absent) in cases {
        let verdict = classifier.classify(name, address);
        assert!(
            !verdict.reasons.contains(&absent),
            "{name}: unexpected {absent} in {:?}",
            verdict.reasons
        );
    }
    // An opaque id alone (15) stays below the threshold.
    let verdict = classifier.classify("h53n2fls32o828.example.com", None);
    assert!(verdict.reasons.contains(&"structure:opaque-id"));
    assert!(!verdict.generic(), "{verdict:?}");
    let verdict = classifier.classify("pool-198-51-100.example.net", ip("198.51.100.20"));
    assert!(verdict.reasons.contains(&"ip-embedded:partial"));
    assert_eq!(verdict.score, 35 + 30, "{:?}", verdict.reasons);
}

#[test]
fn every_reason_code_is_documented() {
    let docs = include_str!("mod.rs");
    let classifier = Classifier::new();
    let samples = [
        ("198-51-100-20.dsl.example.net", ip("198.51.100.20")),
        ("o198-51-100-20.outbound-mail.sendgrid.net", None),
        ("h20.s1.ts31.example.net", ip("192.0.2.20")),
        (
            "2.0.0.0.8.b.d.0.1.0.0.2.v6.example.net",
            ip("2001:db8:2::1"),
        ),
        ("s12345.examplehost.net", None),
        ("00-04-bd-d2-e0-a3.cpe.example.net", None),
        ("h53n2fls32o828.example.com", None),
        ("xy3-c200-17.telia.com", None),
    ];
    for (name, address) in samples {
        for reason in classifier.classify(name, address).reasons {
            assert!(
                docs.contains(&format!("`{reason}`")),
                "{reason} undocumented"
            );
        }
    }
    for word in lexicon::WORDS {
        assert!(
            docs.contains(&format!("`{}`", word.reason)),
            "{} undocumented",
            word.reason
        );
    }
    for kind in [
        SuffixKind::Cloud,
        SuffixKind::Hosting,
        SuffixKind::IspAccess,
        SuffixKind::IspBusiness,
        SuffixKind::Esp,
    ] {
        assert!(docs.contains(&format!("`{}`", kind.reason())));
    }
}

#[test]
fn suffix_table_rows_all_parse_with_a_source() {
    let rows: Vec<Option<SuffixEntry>> = suffix_entries().collect();
    assert!(rows.len() > 100);
    for row in &rows {
        let entry = row.expect("every non-comment row of suffixes.tsv parses and names a source");
        assert!(is_source_reference(entry.source), "{entry:?}");
        assert_eq!(entry.suffix, entry.suffix.to_ascii_lowercase());
        assert!(entry.suffix.contains('.'), "{entry:?}");
    }
    let mut suffixes: Vec<&str> = rows.iter().flatten().map(|entry| entry.suffix).collect();
    suffixes.sort_unstable();
    let before = suffixes.len();
    suffixes.dedup();
    assert_eq!(before, suffixes.len(), "duplicate suffix rows");
}

#[test]
fn source_references_are_urls_or_repository_paths() {
    for good in [
        "https://github.com/schweikert/postgrey/issues/79",
        "apache/spamassassin:rules/20_dynrdns.cf",
        "stevejenkins/hardwarefreak.com-fqrdns.pcre:fqrdns.pcre",
        "http://www.world-net.net/support/spam/faqmain_spam_reporting_2.phtml",
    ] {
        assert!(is_source_reference(good), "{good}");
    }
    for bad in [
        "",
        "provider-docs",
        "rdns-convention",
        "https://",
        "http://",
        "http:/example.com/page",
        "spamassassin:rules/20_dynrdns.cf",
        "apache/spamassassin:",
        "apache/spamassassin:/rules",
        "a/b/c:path",
        "apache/spamassassin: rules",
    ] {
        assert!(!is_source_reference(bad), "{bad:?}");
    }
}

#[test]
fn suffix_rows_without_a_source_are_rejected() {
    let rows: Vec<Option<SuffixEntry>> = suffixes::parse_rows(
        "# comment\n\
         example.net\tisp-access\thttps://example.org/rdns\n\
         example.com\tisp-access\tprovider-docs\n\
         example.org\tisp-access\n\
         example.info\tnot-a-kind\towner/repo:path\n\
         example.biz\thosting\towner/repo:rules/list.cf\textra\n",
    )
    .collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(
        rows[0],
        Some(SuffixEntry {
            suffix: "example.net",
            kind: SuffixKind::IspAccess,
            source: "https://example.org/rdns",
        })
    );
    assert!(rows[1..].iter().all(Option::is_none), "{rows:?}");
}

#[test]
fn class_names_and_generic_flags() {
    let expected = [
        ("dynamic", true),
        ("static-generic", true),
        ("hosting-cloud", true),
        ("esp-infra", false),
        ("custom-mail", false),
        ("custom-other", false),
    ];
    for (class, (name, generic)) in PtrClass::ALL.iter().zip(expected) {
        assert_eq!(class.as_str(), name);
        assert_eq!(class.is_generic(), generic);
    }
    let verdict = Classifier::default().classify("198-51-100-20.dsl.example.net", None);
    assert!(verdict.generic());
}

#[test]
fn registrable_domain_skips_private_psl_rules() {
    assert_eq!(
        registrable_domain("mail.example.co.uk"),
        Some("example.co.uk")
    );
    assert_eq!(
        registrable_domain("ec2-198-51-100-20.compute-1.amazonaws.com"),
        Some("amazonaws.com")
    );
    assert_eq!(registrable_domain("host.dyndns.org"), Some("dyndns.org"));
    assert_eq!(registrable_domain("co.uk"), None);
    assert_eq!(registrable_domain(""), None);
}

#[test]
fn classifier_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Classifier>();
}

static SHARED: std::sync::LazyLock<Classifier> = std::sync::LazyLock::new(Classifier::new);

fn any_ip() -> impl Strategy<Value = Option<IpAddr>> {
    prop_oneof![
        Just(None),
        any::<[u8; 4]>().prop_map(|octets| Some(IpAddr::from(octets))),
        any::<[u8; 16]>().prop_map(|bytes| Some(IpAddr::from(bytes))),
    ]
}

proptest! {
    #[test]
    fn classify_never_panics_on_any_string(name in any::<String>(), address in any_ip()) {
        let verdict = SHARED.classify(&name, address);
        prop_assert!(!verdict.reasons.is_empty() || !verdict.generic());
    }

    #[test]
    fn classify_never_panics_on_dns_like_names(
        name in "[a-zA-Z0-9._-]{0,300}",
        address in any_ip(),
    ) {
        let verdict = SHARED.classify(&name, address);
        if verdict.class != PtrClass::EspInfra && !verdict.reasons.contains(&"name:invalid") {
            prop_assert_eq!(verdict.generic(), verdict.score >= GENERIC_THRESHOLD);
        }
    }

    #[test]
    fn classify_ignores_case_and_trailing_dot(
        name in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){1,4}",
        address in any_ip(),
    ) {
        let plain = SHARED.classify(&name, address);
        let shouted = SHARED.classify(&format!("{}.", name.to_ascii_uppercase()), address);
        prop_assert_eq!(plain, shouted);
    }
}
