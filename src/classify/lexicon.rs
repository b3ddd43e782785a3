//! Word lists for PTR labels, matched in one Aho-Corasick pass.
//!
//! Words are matched on letter boundaries (digits and punctuation are
//! boundaries) so that e.g. `dynamics` in a company name is not read as `dyn`.
//! A few cores that providers glue onto other letters (`athedsl`, `bbcust`,
//! `webmail`) are allowed anywhere because they do not occur inside ordinary
//! words.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// What a matched word is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WordKind {
    /// Unambiguous access-network word (dyn, dsl, ppp, ...).
    AccessStrong,
    /// Access-ish word that operators also use for their own hosts (home, client, ...).
    AccessWeak,
    /// Words hosting providers put in machine names (vps, server, cloud, ...).
    Hosting,
    /// Placeholder names without an owner (unassigned, reverse, ...).
    Placeholder,
    /// ISP static / business line words (static, biz, business, ...).
    StaticLine,
    /// Mail-server words: counter-evidence (mail, mx, smtp, ...).
    Server,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Word {
    pub text: &'static str,
    pub reason: &'static str,
    pub kind: WordKind,
    /// May occur glued to other letters.
    pub embedded: bool,
}

const fn w(text: &'static str, reason: &'static str, kind: WordKind, embedded: bool) -> Word {
    Word {
        text,
        reason,
        kind,
        embedded,
    }
}

use WordKind::{
    AccessStrong as AS, AccessWeak as AW, Hosting as H, Placeholder as P, Server as S,
    StaticLine as SL,
};

pub(crate) const WORDS: &[Word] = &[
    // Dynamic addressing, several languages.
    w("dyn", "token:dyn", AS, false),
    w("dynip", "token:dyn", AS, false),
    w("dynamic", "token:dyn", AS, false),
    w("dynamicip", "token:dyn", AS, false),
    w("dynamique", "token:dyn", AS, false),
    w("dynamisch", "token:dyn", AS, false),
    w("dinamic", "token:dyn", AS, false),
    w("dinamico", "token:dyn", AS, false),
    w("dinamica", "token:dyn", AS, false),
    w("dinamicas", "token:dyn", AS, false),
    w("dinamicos", "token:dyn", AS, false),
    w("dynamiczny", "token:dyn", AS, false),
    w("dhcp", "token:dhcp", AS, true),
    w("pool", "token:pool", AS, false),
    w("pools", "token:pool", AS, false),
    w("ppp", "token:ppp", AS, true),
    w("pppoe", "token:ppp", AS, true),
    w("pppoa", "token:ppp", AS, true),
    w("ipoe", "token:ppp", AS, true),
    w("dial", "token:dial", AS, false),
    w("dialup", "token:dial", AS, false),
    w("dialin", "token:dial", AS, false),
    w("dsl", "token:dsl", AS, true),
    w("cable", "token:cable", AS, false),
    w("kabel", "token:cable", AS, false),
    w("catv", "token:cable", AS, false),
    w("modemcable", "token:cable", AS, false),
    w("cablemodem", "token:cable", AS, false),
    w("hsd", "token:cable", AS, false),
    w("hfc", "token:cable", AS, false),
    w("docsis", "token:cable", AS, false),
    w("cpe", "token:cpe", AS, false),
    w("ftth", "token:fiber", AS, true),
    w("fttx", "token:fiber", AS, true),
    w("fttb", "token:fiber", AS, true),
    w("ftto", "token:fiber", AS, true),
    w("fttp", "token:fiber", AS, true),
    w("gpon", "token:fiber", AS, true),
    w("broadband", "token:broadband", AS, true),
    w("bredband", "token:broadband", AS, true),
    w("breitband", "token:broadband", AS, true),
    w("gprs", "token:mobile", AS, false),
    w("umts", "token:mobile", AS, false),
    w("lte", "token:mobile", AS, false),
    w("cgnat", "token:nat", AS, false),
    w("hsi", "token:broadband", AS, false),
    w("hsia", "token:broadband", AS, false),
    w("fios", "token:fiber", AS, false),
    w("wimax", "token:wireless", AS, false),
    w("isdn", "token:dial", AS, false),
    w("modem", "token:cable", AS, false),
    w("dinamik", "token:dyn", AS, false),
    w("dynamiczne", "token:dyn", AS, false),
    // More languages and access technologies.
    w("dynamik", "token:dyn", AS, false),
    w("dinamis", "token:dyn", AS, false),
    w("dinamikus", "token:dyn", AS, false),
    w("dinamicki", "token:dyn", AS, false),
    w("dinamicka", "token:dyn", AS, false),
    w("dynamicka", "token:dyn", AS, false),
    w("ippool", "token:pool", AS, false),
    w("einwahl", "token:dial", AS, false),
    w("fttc", "token:fiber", AS, true),
    w("fttn", "token:fiber", AS, true),
    w("xpon", "token:fiber", AS, false),
    w("epon", "token:fiber", AS, false),
    w("laajakaista", "token:broadband", AS, true),
    w("bandalarga", "token:broadband", AS, false),
    w("bandaancha", "token:broadband", AS, false),
    w("hsdpa", "token:mobile", AS, false),
    w("hspa", "token:mobile", AS, false),
    // Cable in Turkish; CDMA-family mobile data; dial-in tunnels.
    w("kablo", "token:cable", AS, false),
    w("evdo", "token:mobile", AS, false),
    w("cdma", "token:mobile", AS, false),
    w("wcdma", "token:mobile", AS, false),
    w("pptp", "token:ppp", AS, false),
    w("l2tp", "token:ppp", AS, false),
    // Access words of the generic-rDNS rule files (fqrdns.pcre,
    // SpamAssassin's 20_dynrdns.cf, rspamd's hfilter): virtual dial-up
    // networks, fibre/ethernet to the home or unit, cable-modem
    // termination and modems, glued dynamic pools, home users.
    w("vpdn", "token:dial", AS, false),
    w("dialpool", "token:dial", AS, false),
    w("dynpool", "token:pool", AS, false),
    w("fttu", "token:fiber", AS, false),
    w("etth", "token:fiber", AS, false),
    w("cmts", "token:cable", AS, false),
    w("cblmdm", "token:cable", AS, false),
    w("cmodem", "token:cable", AS, false),
    w("homeuser", "token:residential", AS, false),
    // Weak access words: operators use these for their own hosts too.
    w("fiber", "token:fiber", AW, false),
    w("fibre", "token:fiber", AW, false),
    w("fibra", "token:fiber", AW, false),
    w("bb", "token:broadband", AW, false),
    w("wireless", "token:wireless", AW, false),
    w("wifi", "token:wireless", AW, false),
    w("wlan", "token:wireless", AW, false),
    w("wl", "token:wireless", AW, false),
    w("mobile", "token:mobile", AW, false),
    w("mobil", "token:mobile", AW, false),
    w("movil", "token:mobile", AW, false),
    w("client", "token:client", AW, false),
    w("clients", "token:client", AW, false),
    w("cliente", "token:client", AW, false),
    w("clientes", "token:client", AW, false),
    w("cust", "token:client", AW, true),
    w("customer", "token:client", AW, false),
    w("customers", "token:client", AW, false),
    w("kunde", "token:client", AW, false),
    w("kunden", "token:client", AW, false),
    w("klant", "token:client", AW, false),
    w("kund", "token:client", AW, false),
    w("residencial", "token:residential", AW, false),
    w("dip", "token:dyn", AW, false),
    w("ddns", "token:dyn", AW, false),
    w("cbl", "token:cable", AW, false),
    w("apn", "token:mobile", AW, false),
    w("pc", "token:user", AW, false),
    w("abo", "token:client", AW, false),
    w("abonne", "token:client", AW, false),
    w("subs", "token:client", AW, false),
    w("sub", "token:client", AW, false),
    w("subscriber", "token:client", AW, false),
    w("res", "token:residential", AW, false),
    w("resident", "token:residential", AW, false),
    w("residential", "token:residential", AW, false),
    w("home", "token:residential", AW, false),
    w("heim", "token:residential", AW, false),
    w("user", "token:user", AW, false),
    w("users", "token:user", AW, false),
    w("usuario", "token:user", AW, false),
    w("host", "token:host", AW, false),
    w("ip", "token:ip", AW, false),
    w("ips", "token:ip", AW, false),
    w("nat", "token:nat", AW, false),
    w("bras", "token:bras", AW, false),
    w("nas", "token:bras", AW, false),
    w("cm", "token:cable", AW, false),
    w("access", "token:access", AW, false),
    w("acesso", "token:access", AW, false),
    w("klient", "token:client", AW, false),
    w("klienci", "token:client", AW, false),
    w("clienti", "token:client", AW, false),
    w("abonent", "token:client", AW, false),
    w("abonat", "token:client", AW, false),
    w("asiakas", "token:client", AW, false),
    w("usuarios", "token:user", AW, false),
    w("utente", "token:user", AW, false),
    w("resnet", "token:residential", AW, false),
    w("wohnheim", "token:residential", AW, true),
    w("dorm", "token:residential", AW, false),
    w("hotspot", "token:wireless", AW, false),
    w("wisp", "token:wireless", AW, false),
    w("3g", "token:mobile", AW, false),
    w("4g", "token:mobile", AW, false),
    w("5g", "token:mobile", AW, false),
    w("cgn", "token:nat", AW, false),
    w("mob", "token:mobile", AW, false),
    w("broad", "token:broadband", AW, false),
    w("movel", "token:mobile", AW, false),
    w("flets", "token:fiber", AW, false),
    w("klanten", "token:client", AW, false),
    w("zakaznik", "token:client", AW, false),
    w("musteri", "token:client", AW, false),
    w("pelanggan", "token:client", AW, false),
    w("ugyfel", "token:client", AW, false),
    w("korisnik", "token:user", AW, false),
    w("residentiel", "token:residential", AW, false),
    w("residenziale", "token:residential", AW, false),
    w("thuis", "token:residential", AW, false),
    w("koti", "token:residential", AW, false),
    w("lns", "token:bras", AW, false),
    w("bng", "token:bras", AW, false),
    // Weak words of the same rule files: `din` (dinamico), subscribers,
    // `usr`, `hosts`, mobile broadband.
    w("din", "token:dyn", AW, false),
    w("subscribers", "token:client", AW, false),
    w("usr", "token:user", AW, false),
    w("hosts", "token:host", AW, false),
    w("mbb", "token:mobile", AW, false),
    // Hosting machine words.
    w("vps", "hosting-token:vps", H, true),
    w("vds", "hosting-token:vps", H, true),
    w("droplet", "hosting-token:cloud", H, false),
    w("baremetal", "hosting-token:dedicated", H, false),
    w("dedicado", "hosting-token:dedicated", H, false),
    w("vm", "hosting-token:vps", H, false),
    w("vmi", "hosting-token:vps", H, false),
    w("kvm", "hosting-token:vps", H, false),
    w("srv", "hosting-token:server", H, false),
    w("server", "hosting-token:server", H, false),
    w("servers", "hosting-token:server", H, false),
    w("compute", "hosting-token:cloud", H, false),
    w("cloud", "hosting-token:cloud", H, false),
    w("instance", "hosting-token:cloud", H, false),
    w("ec", "hosting-token:cloud", H, false),
    w("dedi", "hosting-token:dedicated", H, false),
    w("dedicated", "hosting-token:dedicated", H, false),
    w("dedibox", "hosting-token:dedicated", H, false),
    w("hosted", "hosting-token:hosted", H, false),
    w("hosting", "hosting-token:hosted", H, false),
    w("colo", "hosting-token:hosted", H, false),
    w("ded", "hosting-token:dedicated", H, false),
    w("datacenter", "hosting-token:hosted", H, false),
    // Platforms hosters name shared and rented machines after (`linux607.`,
    // `plesk4.`): a hosting word like `server`, weak alone like the others.
    w("linux", "hosting-token:platform", H, false),
    w("plesk", "hosting-token:platform", H, false),
    w("cpanel", "hosting-token:platform", H, false),
    w("whm", "hosting-token:platform", H, false),
    w("directadmin", "hosting-token:platform", H, false),
    // Placeholders nobody chose.
    w("unassigned", "placeholder:unassigned", P, true),
    w("unallocated", "placeholder:unassigned", P, true),
    w("notassigned", "placeholder:unassigned", P, true),
    w("unused", "placeholder:unassigned", P, false),
    w("noptr", "placeholder:unassigned", P, false),
    w("unknown", "placeholder:unassigned", P, false),
    w("reverse", "placeholder:reverse", P, false),
    w("rev", "placeholder:reverse", P, false),
    w("rdns", "placeholder:reverse", P, false),
    w("revip", "placeholder:reverse", P, false),
    w("in-addr", "placeholder:reverse", P, false),
    w("ptr", "placeholder:reverse", P, false),
    w("generic", "placeholder:reverse", P, false),
    w("notset", "placeholder:unassigned", P, false),
    w("not-set", "placeholder:unassigned", P, false),
    w("noname", "placeholder:unassigned", P, false),
    w("no-name", "placeholder:unassigned", P, false),
    w("noreverse", "placeholder:unassigned", P, false),
    w("no-reverse", "placeholder:unassigned", P, false),
    w("nordns", "placeholder:unassigned", P, false),
    w("no-rdns", "placeholder:unassigned", P, false),
    w("no-ptr", "placeholder:unassigned", P, false),
    w("nodns", "placeholder:unassigned", P, false),
    w("no-dns", "placeholder:unassigned", P, false),
    w("unconfigured", "placeholder:unassigned", P, false),
    w("notconfigured", "placeholder:unassigned", P, false),
    w("not-configured", "placeholder:unassigned", P, false),
    w("undefined", "placeholder:unassigned", P, false),
    w("unnamed", "placeholder:unassigned", P, false),
    w("unregistered", "placeholder:unassigned", P, false),
    w("unlabelled", "placeholder:unassigned", P, false),
    w("unlabeled", "placeholder:unassigned", P, false),
    w("genericrev", "placeholder:reverse", P, false),
    w("inaddr", "placeholder:reverse", P, false),
    w("hosted-by", "placeholder:hosted-by", P, false),
    w("hostedby", "placeholder:hosted-by", P, false),
    // Static / business lines.
    w("static", "placeholder:static", SL, false),
    w("staticip", "placeholder:static", SL, false),
    w("statik", "placeholder:static", SL, false),
    w("statique", "placeholder:static", SL, false),
    w("statisch", "placeholder:static", SL, false),
    w("estatico", "placeholder:static", SL, false),
    w("estatica", "placeholder:static", SL, false),
    w("statico", "placeholder:static", SL, false),
    w("statica", "placeholder:static", SL, false),
    w("staticka", "placeholder:static", SL, false),
    w("staticky", "placeholder:static", SL, false),
    w("staticki", "placeholder:static", SL, false),
    w("statikus", "placeholder:static", SL, false),
    w("statyczny", "placeholder:static", SL, false),
    w("statyczne", "placeholder:static", SL, false),
    w("fixo", "placeholder:static", SL, false),
    w("fisso", "placeholder:static", SL, false),
    w("fixed", "placeholder:static", SL, false),
    w("fixe", "placeholder:static", SL, false),
    w("fija", "placeholder:static", SL, false),
    w("fix", "placeholder:static", SL, false),
    w("sta", "placeholder:static", SL, false),
    w("b2b", "placeholder:business", SL, false),
    w("biz", "placeholder:business", SL, false),
    w("business", "placeholder:business", SL, false),
    w("bus", "placeholder:business", SL, false),
    w("sme", "placeholder:business", SL, false),
    w("leased", "placeholder:business", SL, false),
    w("empresa", "placeholder:business", SL, false),
    w("empresas", "placeholder:business", SL, false),
    w("fixip", "placeholder:static", SL, false),
    w("empresarial", "placeholder:business", SL, false),
    // Mail server words: counter-evidence.
    w("mail", "server-token:mail", S, true),
    w("mails", "server-token:mail", S, false),
    w("correo", "server-token:mail", S, false),
    w("mailer", "server-token:mail", S, false),
    w("mailhost", "server-token:mail", S, false),
    w("mx", "server-token:mx", S, false),
    w("mxout", "server-token:mx", S, false),
    w("mxin", "server-token:mx", S, false),
    w("smtp", "server-token:smtp", S, true),
    w("smtps", "server-token:smtp", S, false),
    w("esmtp", "server-token:smtp", S, false),
    w("mta", "server-token:mta", S, true),
    w("postfix", "server-token:mta", S, false),
    w("exim", "server-token:mta", S, false),
    w("relay", "server-token:relay", S, false),
    w("smarthost", "server-token:relay", S, false),
    w("mailgw", "server-token:relay", S, false),
    w("outbound", "server-token:outbound", S, false),
    w("out", "server-token:outbound", S, false),
    w("mout", "server-token:outbound", S, false),
    w("smtpout", "server-token:outbound", S, false),
    w("mailout", "server-token:outbound", S, false),
    w("bounce", "server-token:bounce", S, false),
    w("bounces", "server-token:bounce", S, false),
    w("exchange", "server-token:exchange", S, false),
    w("imap", "server-token:exchange", S, false),
    w("pop", "server-token:exchange", S, false),
    w("mailrelay", "server-token:relay", S, false),
    w("antispam", "server-token:relay", S, false),
    w("newsletter", "server-token:bounce", S, false),
    w("lists", "server-token:bounce", S, false),
    // Secondary MX hosts and Exchange servers named after their version
    // (`altmx`, `backupmx`, `ex2016`): operators' mail hosts.
    w("altmx", "server-token:mx", S, false),
    w("backupmx", "server-token:mx", S, false),
    w("mxbackup", "server-token:mx", S, false),
    w("ex2010", "server-token:exchange", S, false),
    w("ex2013", "server-token:exchange", S, false),
    w("ex2016", "server-token:exchange", S, false),
    w("ex2019", "server-token:exchange", S, false),
    w("exch", "server-token:exchange", S, false),
];

/// One accepted word match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WordHit {
    pub word: &'static Word,
    pub start: usize,
    pub end: usize,
}

pub(crate) struct Lexicon {
    automaton: AhoCorasick,
}

impl Lexicon {
    pub(crate) fn new() -> Self {
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(WORDS.iter().map(|word| word.text))
            // The word list is a compile-time constant of short ASCII words; it cannot fail to build.
            .expect("static word list builds");
        Lexicon { automaton }
    }

    /// Calls `on_hit` for every word found in `text` on letter boundaries
    /// (or anywhere, for embedded-ok words).
    pub(crate) fn scan(&self, text: &str, mut on_hit: impl FnMut(WordHit)) {
        let bytes = text.as_bytes();
        for found in self.automaton.find_overlapping_iter(text) {
            let Some(word) = WORDS.get(found.pattern().as_usize()) else {
                continue;
            };
            let start = found.start();
            let end = found.end();
            let left_ok = start == 0 || !bytes[start - 1].is_ascii_alphabetic();
            let right_ok = end >= bytes.len() || !bytes[end].is_ascii_alphabetic();
            if word.embedded || (left_ok && right_ok) {
                on_hit(WordHit { word, start, end });
            }
        }
    }
}
