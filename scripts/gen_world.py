#!/usr/bin/env python3
"""Generate a deterministic reverse-DNS "world" for ptrscan tests and benchmarks.

Usage:
    gen_world.py --prefix 198.18.0.0/16 --out DIR [--seed N] [--v6-prefix 2001:db8:ab::/116]
                 [--mix default|bench]

Standard library only. Same arguments -> byte-identical output.  A /15 takes a
few seconds.  All addresses in the zone DATA come from documentation /
benchmark ranges (198.18.0.0/15, 2001:db8::/32); all forward names live under
the reserved `.test` TLD.  Nothing here touches the network.

Files written to DIR
--------------------
  zones/<zone>.zone   RFC 1035 zone files, one per zone (see "Zones" below).
  zones.txt           one line per zone: "<zone-name-without-dot>\t<absolute zone file path>".
  knot-zones.conf     knot 3.x `zone:` section listing every zone (absolute paths);
                      scripts/testbed.sh appends it to the server config it writes.
  queries.txt         dnsperf input, one "<reverse-name> PTR" line per address of the
                      prefix(es), in a deterministic shuffled order.
  truth.tsv           header "ip\tptr\tfcrdns", one row per address (IPv4 in numeric
                      order, then IPv6):
                        ip      IPv4 dotted quad / IPv6 compressed (RFC 5952) text
                        ptr     PTR target names, lowercased, no trailing dot, sorted,
                                joined by "|"; empty if the address has no PTR
                        fcrdns  confirmed  - some PTR name resolves (A for IPv4, AAAA for
                                             IPv6, following CNAMEs) to this very ip
                                mismatch   - some PTR name resolves, none to this ip
                                no_forward - no PTR name resolves to any address of the
                                             ip's family (NXDOMAIN, NODATA, dangling CNAME)
                                no_ptr     - no PTR record (query answers NXDOMAIN)
  world.json          manifest: arguments, zone list, counts per category.

Zones
-----
  IPv4 reverse: one zone per covered /16 (e.g. 18.198.in-addr.arpa, 19.198.in-addr.arpa
    for a /15) when the prefix is /12../16; one zone per covered /24 for /17../24;
    the enclosing /24 for longer prefixes.  Owner names are relative ("7.3").
  IPv6 reverse: one nibble-format ip6.arpa zone at the prefix length rounded down to
    a multiple of 4 (2001:db8:ab::/116 -> 0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.a.0.0.8.b.d.0.1.0.0.2.ip6.arpa).
  Forward: test. (custom names), example-isp.test., example-cable.test.,
    example-dsl.test., example-hosting.test.  Every forward name lives in one of
    them, so the server answers NXDOMAIN/NODATA (never REFUSED) for absent names.
  SOA negative TTL 60, record TTL 3600, NS ns.world.example. (not served).

Name conventions (a = IPv4 octets a.b.c.d, h = 8 hex digits of the IPv4)
---------------------------------------------------------------------------
  generic IPv4:  a-b-c-d.dyn.example-isp.test, host-a-b-c-d.cust.example-cable.test,
                 ipa-b-c-d.pool.example-dsl.test, c<h>.static.example-hosting.test,
                 vps<N>.cloud.example-hosting.test
  generic IPv6:  2001-db8-ab-0-0-0-0-7a3.dyn6.example-isp.test (groups without leading
                 zeros), host-<32 hex nibbles>.v6.example-cable.test
  custom:        <label>.<org><n>.test, e.g. mail.corp123.test, smtp-out3.news12.test;
                 ~1 % of custom PTR rdata is written in Mixed Case (truth is lowercase).
  Outcome of a single name (generic or custom): ~70 % A/AAAA = the ip (confirmed),
    ~15 % A/AAAA = another address in 198.18.0.0/15 / 2001:db8::/32 (mismatch),
    ~15 % absent from its (served) zone -> NXDOMAIN (no_forward).
  Special cases (fractions of all addresses; ~20 % of addresses have no PTR at all):
    multi-PTR  ~0.5 %: 2-3 PTR names, about half of them mixing one confirming name
               with non-confirming ones (-> confirmed).
    CNAME      ~0.5 %: PTR name is a CNAME to a name in the same zone ("cn-..." or
               "<label>-real.<org>.test"); ~70 % of targets have the ip (confirmed),
               ~15 % another address (mismatch), ~15 % are absent (dangling CNAME:
               answer has the CNAME, rcode NXDOMAIN -> no_forward).
    shared-confirmed ~1.5 %: groups of addresses sharing one name with one A per
               member; the first group is mail.bigcorp.test with exactly 5 addresses,
               later ones mail.bigcorp<N>.test (2-8 addresses) -> all confirmed.
    shared-unassigned ~0.8 %: PTR unassigned.example-isp.test, which exists with
               only a TXT record (A/AAAA answer NODATA) -> no_forward.
    shared-router ~0.8 %: groups sharing router<N>.example-dsl.test whose single
               A/AAAA is the first member -> first member confirmed, others mismatch.
    dual-stack: ~30 % of confirmed custom IPv6 names reuse a confirmed IPv4 custom
               name (that name then has both the A and the AAAA).
    RFC 2317 (IPv4 only, when the prefix spans at least 200*256+64 addresses): the /26
               at prefix_start + 200*256 (198.18.200.0/26 for 198.18.0.0/16) uses
               classless delegation style: "N.200.18.198.in-addr.arpa CNAME
               N.0-63.200.18.198.in-addr.arpa" for all 64 addresses; the PTR (if any)
               sits at the CNAME target.  Addresses without PTR have a dangling CNAME
               (rcode NXDOMAIN) -> ptr empty, no_ptr.
  A name only ever carries records of the family of the addresses pointing at it
  (plus matching AAAA for reused dual-stack names), so "resolves" is unambiguous.

Mixes (--mix)
-------------
  default  everything above: the integration world, every special case present
           (scripts/integration relies on it; its output never changes).
  bench    the throughput mix of scripts/bench: ~20 % no PTR, ~0.5 % multi-PTR,
           ~39.75 % generic, ~39.75 % custom names, each name with the 70/15/15
           confirmed/mismatch/NXDOMAIN outcome above; no CNAME, shared-name,
           unassigned or router groups and no RFC 2317 block.  Files, naming and
           truth.tsv are as for the default mix.
"""

import argparse
import ipaddress
import json
import os
import random
import sys
import time

TTL = 3600
NEG_TTL = 60
SOA_RDATA = "ns.world.example. hostmaster.world.example. 1 3600 600 86400 %d" % NEG_TTL
FWD_ZONES = ["example-isp.test", "example-cable.test", "example-dsl.test",
             "example-hosting.test", "test"]

LABELS = ["mail", "mail2", "mx", "mx1", "mx2", "smtp", "smtp-out", "smtp-out3", "relay",
          "mta1", "www", "web", "srv", "srv7", "host", "gw", "vpn", "ns1", "outbound",
          "mailer", "post", "exchange", "ex01", "office", "edge", "app"]
ORGS = ["corp", "shop", "news", "site", "agency", "lab", "clinic", "school", "bank",
        "travel", "media", "games", "hotel", "law", "farm", "club", "studio", "store",
        "print", "cloud", "bakery", "garage", "dental", "realty"]

V4_POOL = ipaddress.ip_network("198.18.0.0/15")
V6_POOL = ipaddress.ip_network("2001:db8::/32")


class World:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.used = set()          # every forward name ever created (lowercase)
        self.a = {}                # name -> list of IPv4 ints
        self.aaaa = {}             # name -> list of IPv6 ints
        self.cname = {}            # name -> target name
        self.txt = {}              # name -> text
        self.ptr = {}              # (family, ip int) -> list of names as written in rdata
        self.rfc2317 = set()       # IPv4 ints served through RFC 2317 style CNAMEs
        self.vps = 10000
        self.bigcorp = 0
        self.router = 0
        self.cat_counts = {}
        self.v4_custom_confirmed = []

    # ---------- helpers ----------
    def count(self, cat):
        self.cat_counts[cat] = self.cat_counts.get(cat, 0) + 1

    def outcome(self):
        r = self.rng.random()
        return "confirm" if r < 0.70 else ("mismatch" if r < 0.85 else "nx")

    def other_addr(self, fam, ip):
        pool = V4_POOL if fam == 4 else V6_POOL
        base, size = int(pool.network_address), pool.num_addresses
        while True:
            x = base + int(self.rng.random() * size)
            if x != ip:
                return x

    def add_addr(self, fam, name, ip):
        d = self.a if fam == 4 else self.aaaa
        d.setdefault(name, []).append(ip)

    def claim(self, name):
        if name in self.used:
            return False
        self.used.add(name)
        return True

    def custom_name(self, suffix_label=""):
        while True:
            lab = LABELS[int(self.rng.random() * len(LABELS))]
            org = ORGS[int(self.rng.random() * len(ORGS))]
            n = 1 + int(self.rng.random() * 99999)
            name = "%s%s.%s%d.test" % (lab, suffix_label, org, n)
            if self.claim(name):
                return name

    def generic_name(self, fam, ip, salt=0):
        """Generic ISP-style name; `salt` differentiates extra names of multi-PTR ips."""
        if fam == 4:
            a, b, c, d = ipaddress.IPv4Address(ip).packed
            r = self.rng.random()
            if r < 0.25:
                name = "%d-%d-%d-%d.dyn.example-isp.test" % (a, b, c, d)
            elif r < 0.50:
                name = "host-%d-%d-%d-%d.cust.example-cable.test" % (a, b, c, d)
            elif r < 0.75:
                name = "ip%d-%d-%d-%d.pool.example-dsl.test" % (a, b, c, d)
            elif r < 0.88:
                name = "c%08x.static.example-hosting.test" % ip
            else:
                name = None
            if name is not None and salt:
                name = "s%d-%s" % (salt, name)
            if name is None or not self.claim(name):
                while True:
                    self.vps += 1 + int(self.rng.random() * 7)
                    name = "vps%d.cloud.example-hosting.test" % self.vps
                    if self.claim(name):
                        break
            return name
        groups = ipaddress.IPv6Address(ip).exploded.split(":")
        if self.rng.random() < 0.6:
            name = "%s.dyn6.example-isp.test" % "-".join(g.lstrip("0") or "0" for g in groups)
        else:
            name = "host-%032x.v6.example-cable.test" % ip
        if salt:
            name = "s%d-%s" % (salt, name)
        if not self.claim(name):
            raise AssertionError("duplicate generic name " + name)
        return name

    def single(self, fam, ip, kind, forced=None, salt=0):
        """Create one PTR name for ip with a forward outcome; return (name, outcome)."""
        name = self.generic_name(fam, ip, salt) if kind == "generic" else self.custom_name()
        out = forced or self.outcome()
        if out == "confirm":
            self.add_addr(fam, name, ip)
        elif out == "mismatch":
            self.add_addr(fam, name, self.other_addr(fam, ip))
        return name, out

    # ---------- per-address generation ----------
    def gen_address(self, fam, ip, cat):
        self.count(cat)
        if cat == "no_ptr":
            return
        names = []
        if cat in ("generic", "custom"):
            name, out = self.single(fam, ip, cat)
            if cat == "custom":
                if out == "confirm" and fam == 4:
                    self.v4_custom_confirmed.append(name)
                if fam == 6 and out == "confirm" and self.v4_custom_confirmed \
                        and self.rng.random() < 0.30:
                    # dual-stack: reuse a confirmed IPv4 custom name, add the AAAA
                    del self.aaaa[name]
                    self.used.discard(name)
                    idx = int(self.rng.random() * len(self.v4_custom_confirmed))
                    name = self.v4_custom_confirmed.pop(idx)
                    self.add_addr(6, name, ip)
                    self.count("dual_stack")
                if self.rng.random() < 0.01:
                    name = mixed_case(name, self.rng)
                    self.count("mixed_case")
            names.append(name)
        elif cat == "multi":
            k = 2 if self.rng.random() < 0.7 else 3
            mixed = self.rng.random() < 0.5
            for i in range(k):
                kind = "generic" if self.rng.random() < 0.5 else "custom"
                forced = None
                if mixed:
                    forced = "confirm" if i == 0 else ("mismatch" if self.rng.random() < 0.5 else "nx")
                names.append(self.single(fam, ip, kind, forced, salt=i)[0])
        elif cat == "cname":
            out = self.outcome()
            if self.rng.random() < 0.5:
                alias = self.custom_name()
                lab, rest = alias.split(".", 1)
                target = "%s-real.%s" % (lab, rest)
                if not self.claim(target):
                    target = self.custom_name("-real")
            else:
                alias = self.generic_name(fam, ip)
                while True:
                    target = "cn-%06x.%s" % (int(self.rng.random() * 0xFFFFFF),
                                             alias.split(".", 1)[1])
                    if self.claim(target):
                        break
            self.cname[alias] = target
            if out == "confirm":
                self.add_addr(fam, target, ip)
            elif out == "mismatch":
                self.add_addr(fam, target, self.other_addr(fam, ip))
            self.count("cname_" + out)
            names.append(alias)
        elif cat == "unassigned":
            name = "unassigned.example-isp.test"
            self.used.add(name)
            self.txt[name] = "address not assigned"
            names.append(name)
        else:
            raise AssertionError(cat)
        self.ptr[(fam, ip)] = names

    def gen_groups(self, fam, ips, cat):
        """shared_confirm / router groups over the addresses selected for them."""
        i = 0
        while i < len(ips):
            if cat == "shared_confirm":
                if self.bigcorp == 0 and fam == 4:
                    k, name = 5, "mail.bigcorp.test"
                else:
                    k = 2 + int(self.rng.random() * 7)
                    name = "mail.bigcorp%d%s.test" % (self.bigcorp, "" if fam == 4 else "-v6")
                self.bigcorp += 1
            else:
                k = 2 + int(self.rng.random() * 5)
                self.router += 1
                name = "router%d.example-dsl.test" % self.router
            self.used.add(name)
            group = ips[i:i + k]
            i += k
            for j, ip in enumerate(group):
                self.count(cat)
                self.ptr[(fam, ip)] = [name]
                if cat == "shared_confirm" or j == 0:
                    self.add_addr(fam, name, ip)

    def gen_family(self, fam, ips, mix="default"):
        shared = {"shared_confirm": [], "router": []}
        for ip in ips:
            r = self.rng.random()
            if mix == "bench":
                cat = ("no_ptr" if r < 0.20 else "multi" if r < 0.205
                       else "generic" if r < 0.6025 else "custom")
            elif r < 0.20:
                cat = "no_ptr"
            elif r < 0.205:
                cat = "multi"
            elif r < 0.210:
                cat = "cname"
            elif r < 0.225:
                cat = "shared_confirm"
            elif r < 0.233:
                cat = "unassigned"
            elif r < 0.241:
                cat = "router"
            elif r < 0.61:
                cat = "generic"
            else:
                cat = "custom"
            if cat in shared:
                shared[cat].append(ip)
            else:
                self.gen_address(fam, ip, cat)
        for cat, lst in shared.items():
            self.gen_groups(fam, lst, cat)

    # ---------- truth ----------
    def resolve(self, name, fam):
        name = name.lower()
        for _ in range(10):
            if name in self.cname:
                name = self.cname[name]
            else:
                break
        return (self.a if fam == 4 else self.aaaa).get(name, ())

    def truth(self, fam, ip):
        names = self.ptr.get((fam, ip))
        if not names:
            return "", "no_ptr"
        low = sorted(set(n.lower() for n in names))
        any_addr = False
        for n in low:
            addrs = self.resolve(n, fam)
            if ip in addrs:
                return "|".join(low), "confirmed"
            if addrs:
                any_addr = True
        return "|".join(low), ("mismatch" if any_addr else "no_forward")


def mixed_case(name, rng):
    labels = name.split(".")
    labels[0] = labels[0].capitalize()
    if len(labels) > 2:
        labels[1] = labels[1].upper() if rng.random() < 0.5 else labels[1].capitalize()
    return ".".join(labels)


def v4_zones(net):
    """List of (zone_origin, zone_network) for an IPv4 prefix."""
    plen = net.prefixlen
    if plen < 12:
        sys.exit("gen_world.py: IPv4 prefix %s too large (max /12)" % net)
    zbits = 16 if plen <= 16 else 24
    if plen > 24:
        return [(rev4_origin(net.supernet(new_prefix=24)), net.supernet(new_prefix=24))]
    return [(rev4_origin(z), z) for z in net.subnets(new_prefix=zbits)]


def rev4_origin(z):
    octs = str(z.network_address).split(".")[: z.prefixlen // 8]
    return ".".join(reversed(octs)) + ".in-addr.arpa"


def v6_zone(net):
    zlen = (net.prefixlen // 4) * 4
    nib = "%032x" % int(net.network_address)
    return ".".join(reversed(nib[: zlen // 4])) + ".ip6.arpa", zlen // 4


def rev_name(fam, ip):
    if fam == 4:
        return ".".join(reversed(str(ipaddress.IPv4Address(ip)).split("."))) + ".in-addr.arpa"
    return ".".join(reversed("%032x" % ip)) + ".ip6.arpa"


def zone_header(origin):
    return ("$ORIGIN %s.\n$TTL %d\n@ SOA %s\n@ NS ns.world.example.\n"
            % (origin, TTL, SOA_RDATA))


def fwd_zone_of(name):
    for z in FWD_ZONES:
        if name == z or name.endswith("." + z):
            return z
    raise AssertionError("no served zone for " + name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prefix", required=True, help="IPv4 prefix, e.g. 198.18.0.0/16")
    ap.add_argument("--v6-prefix", help="optional IPv6 prefix, e.g. 2001:db8:ab::/116")
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", choices=("default", "bench"), default="default",
                    help="address mix: default (integration, all special cases) or "
                         "bench (20%% no PTR, 40%% generic, 40%% custom, a few multi-PTR)")
    args = ap.parse_args()
    t0 = time.monotonic()

    try:
        net4 = ipaddress.ip_network(args.prefix, strict=True)
        net6 = ipaddress.ip_network(args.v6_prefix, strict=True) if args.v6_prefix else None
    except ValueError as e:
        sys.exit("gen_world.py: bad prefix: %s" % e)
    if net4.version != 4:
        sys.exit("gen_world.py: --prefix must be IPv4")
    if not net4.subnet_of(V4_POOL):
        print("gen_world.py: warning: %s is outside 198.18.0.0/15" % net4, file=sys.stderr)
    if net6 is not None:
        if net6.version != 6:
            sys.exit("gen_world.py: --v6-prefix must be IPv6")
        if net6.prefixlen < 108:
            sys.exit("gen_world.py: --v6-prefix %s too large (max /108)" % net6)
        if not net6.subnet_of(V6_POOL):
            print("gen_world.py: warning: %s is outside 2001:db8::/32" % net6, file=sys.stderr)

    out = os.path.abspath(args.out)
    zdir = os.path.join(out, "zones")
    os.makedirs(zdir, exist_ok=True)

    w = World(args.seed)
    base4 = int(net4.network_address)
    ips4 = range(base4, base4 + net4.num_addresses)
    w.gen_family(4, ips4, args.mix)
    ips6 = ()
    if net6 is not None:
        base6 = int(net6.network_address)
        ips6 = range(base6, base6 + net6.num_addresses)
        w.gen_family(6, ips6, args.mix)

    # RFC 2317 block: 64 addresses at offset 200*256
    rfc_start = base4 + 200 * 256
    if args.mix == "default" and net4.num_addresses >= 200 * 256 + 64:
        w.rfc2317 = set(range(rfc_start, rfc_start + 64))

    zones = []  # (origin, path)

    # ---- IPv4 reverse zones ----
    for origin, znet in v4_zones(net4):
        zb = int(znet.network_address)
        lo, hi = max(zb, base4), min(zb + znet.num_addresses, base4 + net4.num_addresses)
        keep = znet.prefixlen // 8  # octets in origin
        lines = [zone_header(origin)]
        for ip in range(lo, hi):
            names = w.ptr.get((4, ip))
            octs = ipaddress.IPv4Address(ip).packed
            rel = ".".join(str(o) for o in reversed(octs[keep:]))
            if ip in w.rfc2317:
                sub = "%d.0-63.%s" % (octs[3], ".".join(str(o) for o in reversed(octs[keep:3])))
                lines.append("%s CNAME %s\n" % (rel, sub))
                rel = sub
            if names:
                for n in names:
                    lines.append("%s PTR %s.\n" % (rel, n))
        path = os.path.join(zdir, origin + ".zone")
        with open(path, "w") as f:
            f.write("".join(lines))
        zones.append((origin, path))

    # ---- IPv6 reverse zone ----
    if net6 is not None:
        origin, keep = v6_zone(net6)
        lines = [zone_header(origin)]
        for ip in ips6:
            names = w.ptr.get((6, ip))
            if names:
                rel = ".".join(reversed(("%032x" % ip)[keep:]))
                for n in names:
                    lines.append("%s PTR %s.\n" % (rel, n))
        path = os.path.join(zdir, origin + ".zone")
        with open(path, "w") as f:
            f.write("".join(lines))
        zones.append((origin, path))

    # ---- forward zones ----
    fwd = {z: [zone_header(z)] for z in FWD_ZONES}
    for name in sorted(set(w.a) | set(w.aaaa) | set(w.cname) | set(w.txt)):
        buf = fwd[fwd_zone_of(name)]
        if name in w.cname:
            buf.append("%s. CNAME %s.\n" % (name, w.cname[name]))
            continue
        for ip in w.a.get(name, ()):
            buf.append("%s. A %s\n" % (name, ipaddress.IPv4Address(ip)))
        for ip in w.aaaa.get(name, ()):
            buf.append("%s. AAAA %s\n" % (name, ipaddress.IPv6Address(ip)))
        if name in w.txt:
            buf.append('%s. TXT "%s"\n' % (name, w.txt[name]))
    for z in FWD_ZONES:
        path = os.path.join(zdir, z + ".zone")
        with open(path, "w") as f:
            f.write("".join(fwd[z]))
        zones.append((z, path))

    with open(os.path.join(out, "zones.txt"), "w") as f:
        for z, p in zones:
            f.write("%s\t%s\n" % (z, p))
    with open(os.path.join(out, "knot-zones.conf"), "w") as f:
        f.write("zone:\n")
        for z, p in zones:
            f.write('  - domain: "%s."\n    file: "%s"\n' % (z, p))

    # ---- truth ----
    fc_counts = {}
    with open(os.path.join(out, "truth.tsv"), "w") as f:
        f.write("ip\tptr\tfcrdns\n")
        rows = []
        for ip in ips4:
            p, fc = w.truth(4, ip)
            fc_counts[fc] = fc_counts.get(fc, 0) + 1
            rows.append("%s\t%s\t%s\n" % (ipaddress.IPv4Address(ip), p, fc))
        for ip in ips6:
            p, fc = w.truth(6, ip)
            fc_counts[fc] = fc_counts.get(fc, 0) + 1
            rows.append("%s\t%s\t%s\n" % (ipaddress.IPv6Address(ip), p, fc))
        f.write("".join(rows))

    # ---- queries ----
    q = [rev_name(4, ip) for ip in ips4] + [rev_name(6, ip) for ip in ips6]
    random.Random(args.seed * 7919 + 17).shuffle(q)
    with open(os.path.join(out, "queries.txt"), "w") as f:
        f.write(" PTR\n".join(q) + " PTR\n")

    manifest = {
        "prefix": str(net4), "v6_prefix": str(net6) if net6 else None, "seed": args.seed,
        **({"mix": args.mix} if args.mix != "default" else {}),
        "addresses": len(ips4) + len(ips6),
        "zones": [z for z, _ in zones],
        "rfc2317_block": ("%s/26" % ipaddress.IPv4Address(rfc_start)) if w.rfc2317 else None,
        "fcrdns_counts": dict(sorted(fc_counts.items())),
        "category_counts": dict(sorted(w.cat_counts.items())),
        "forward_names": len(w.used),
    }
    with open(os.path.join(out, "world.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("gen_world.py: %d addresses, %d zones, %s in %.2fs -> %s"
          % (manifest["addresses"], len(zones), json.dumps(manifest["fcrdns_counts"]),
             time.monotonic() - t0, out), file=sys.stderr)


if __name__ == "__main__":
    main()
