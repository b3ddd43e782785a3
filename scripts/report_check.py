#!/usr/bin/env python3
"""Checks a `ptrscan report` against DuckDB and in headless Chromium.

Usage:
  report_check.py figures AUDIT... --json FIGURES.json --html REPORT.html
      Recomputes every figure of the report's --json output with DuckDB
      queries on the same audit files (CSV, JSON Lines or Parquet, as
      DuckDB reads them), compares them exactly, and checks that the
      figures embedded in the HTML are the same ones.
  report_check.py browser REPORT.html [--screenshot PNG] [--expect mx|baseline ...]
      Renders the page in headless Chromium (Debian's `chromium`): checks
      that every section and chart is in the DOM, that every heat map has
      256 squares, that the page's script ran without a console error
      (sorting, filtering and the heat-map switch exercised), and saves a
      screenshot.
  report_check.py generate OUT.parquet [--rows N] [--csv OUT.csv]
      Writes a synthetic scan output of N rows (default 1,000,000) over
      10.0.0.0/12 with DuckDB, with extra columns a later ptrscan or a user
      might add; for the timing test.
"""

import argparse
import collections
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

FCRDNS = ["confirmed", "mismatch", "no_forward", "no_ptr", "error", "unchecked"]
CLASSES = ["dynamic", "static-generic", "hosting-cloud", "esp-infra", "custom-mail", "custom-other"]
FINDINGS = ["no-ptr", "fcrdns-fail", "generic-ptr", "multiple-ptr", "website-name", "ehlo-mismatch"]


def fail(message):
    print("report-check: FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def audit_view(con, files):
    """A view `a` over the audit files with typed columns, whatever the format."""
    ext = os.path.splitext(files[0])[1].lower()
    quoted = "[" + ", ".join("'%s'" % f.replace("'", "''") for f in files) + "]"
    if ext == ".parquet":
        source = "read_parquet(%s, union_by_name=true)" % quoted
        ptr, findings = "ptr", "findings"
        generic, score = "generic", "CAST(score AS INTEGER)"
    elif ext == ".jsonl":
        source = ("read_json(%s, format='newline_delimited', union_by_name=true, "
                  "columns={ip: 'VARCHAR', ptr: 'VARCHAR[]', fcrdns: 'VARCHAR', generic: 'BOOLEAN', "
                  "ptr_class: 'VARCHAR', severity: 'VARCHAR', findings: 'VARCHAR[]', score: 'INTEGER'})" % quoted)
        ptr, findings = "coalesce(ptr, [])", "coalesce(findings, [])"
        generic, score = "generic", "score"
    else:
        source = "read_csv(%s, all_varchar=true, header=true, union_by_name=true)" % quoted
        ptr = "CASE WHEN coalesce(ptr, '') = '' THEN []::VARCHAR[] ELSE string_split(ptr, '|') END"
        findings = "CASE WHEN coalesce(findings, '') = '' THEN []::VARCHAR[] ELSE string_split(findings, '|') END"
        generic = "CASE generic WHEN 'true' THEN true WHEN 'false' THEN false END"
        score = "CAST(nullif(score, '') AS INTEGER)"
    con.execute("""
        CREATE OR REPLACE VIEW a AS
        SELECT ip, %s AS ptr, fcrdns, %s AS generic, nullif(ptr_class, '') AS ptr_class,
               nullif(severity, '') AS severity, %s AS findings, %s AS score
        FROM %s WHERE coalesce(ip, '') <> ''
    """ % (ptr, generic, findings, score, source))


def duckdb_figures(files):
    import duckdb
    con = duckdb.connect()
    audit_view(con, files)
    q = lambda sql: con.execute(sql).fetchall()
    out = {}
    rows, with_ptr, generic, score_sum, scored = q("""
        SELECT count(*), count(*) FILTER (len(ptr) > 0), count(*) FILTER (generic),
               coalesce(sum(score), 0), count(score) FROM a""")[0]
    out["rows_with_ip"] = rows
    fcrdns = dict(q("SELECT fcrdns, count(*) FROM a GROUP BY ALL"))
    out["fcrdns"] = {v: fcrdns.get(v, 0) for v in FCRDNS}
    classes = dict(q("SELECT ptr_class, count(*) FROM a WHERE ptr_class IS NOT NULL GROUP BY ALL"))
    out["ptr_class"] = {c: classes.get(c, 0) for c in CLASSES}
    severity = dict(q("SELECT coalesce(severity, 'none'), count(*) FROM a GROUP BY ALL"))
    out["severity"] = {s: severity.get(s, 0) for s in ["high", "medium", "low", "none"]}
    findings = dict(q("SELECT f, count(*) FROM (SELECT DISTINCT ip, unnest(findings) AS f FROM a) GROUP BY ALL"))
    out["findings"] = {f: findings.get(f, 0) for f in FINDINGS}
    hist = dict(q("SELECT score, count(*) FROM a WHERE score IS NOT NULL GROUP BY ALL"))
    out["score_histogram"] = [hist.get(s, 0) for s in range(26)]
    out["score_sum"], out["scored"] = score_sum, scored
    confirmed = out["fcrdns"]["confirmed"]
    no_ptr = out["fcrdns"]["no_ptr"]
    pct = lambda part, whole: round(100.0 * part / whole, 2) if whole else 0.0
    out["headline"] = {
        "addresses": rows, "with_ptr": with_ptr, "confirmed": confirmed, "no_ptr": no_ptr,
        "generic": generic, "confirmed_pct": pct(confirmed, rows), "no_ptr_pct": pct(no_ptr, rows),
        "generic_pct": pct(generic, with_ptr),
        "mean_score": round(score_sum / scored, 2) if scored else None,
    }
    # Per network: IPv4 /24 in SQL; IPv6 grouped here (no inet extension needed).
    networks = {}
    for (net, n, wp, conf, mis, nof, nop, err, unc, gen, hi, me, lo, ss, sc) in q("""
        SELECT split_part(ip, '.', 1) || '.' || split_part(ip, '.', 2) || '.' || split_part(ip, '.', 3) || '.0/24',
               count(*), count(*) FILTER (len(ptr) > 0),
               count(*) FILTER (fcrdns = 'confirmed'), count(*) FILTER (fcrdns = 'mismatch'),
               count(*) FILTER (fcrdns = 'no_forward'), count(*) FILTER (fcrdns = 'no_ptr'),
               count(*) FILTER (fcrdns = 'error'), count(*) FILTER (fcrdns = 'unchecked'),
               count(*) FILTER (generic), count(*) FILTER (severity = 'high'),
               count(*) FILTER (severity = 'medium'), count(*) FILTER (severity = 'low'),
               coalesce(sum(score), 0), count(score)
        FROM a WHERE ip NOT LIKE '%:%' GROUP BY 1"""):
        networks[net] = dict(rows=n, with_ptr=wp, confirmed=conf, mismatch=mis, no_forward=nof, no_ptr=nop,
                             error=err, unchecked=unc, generic=gen, high=hi, medium=me, low=lo,
                             score_sum=ss, scored=sc)
    v6 = q("SELECT ip, len(ptr) > 0, fcrdns, generic, severity, score FROM a WHERE ip LIKE '%:%'")
    slash48 = {int(ipaddress.ip_address(r[0])) >> 80 for r in v6}
    prefix = 48 if len(slash48) > 1 else 64
    for ip, has_ptr, fc, gen, sev, score in v6:
        net = str(ipaddress.ip_network("%s/%d" % (ip, prefix), strict=False))
        n = networks.setdefault(net, dict(rows=0, with_ptr=0, confirmed=0, mismatch=0, no_forward=0, no_ptr=0,
                                          error=0, unchecked=0, generic=0, high=0, medium=0, low=0,
                                          score_sum=0, scored=0))
        n["rows"] += 1
        n["with_ptr"] += int(bool(has_ptr))
        n[fc] += 1
        n["generic"] += int(gen is True)
        if sev:
            n[sev] += 1
        if score is not None:
            n["score_sum"] += score
            n["scored"] += 1
    out["networks"] = networks
    out["ipv6_prefix"] = prefix if v6 else None
    # Zones: the first PTR name without its first label, unless it has two labels or fewer.
    zones = {}
    for zone, n, conf, gen in q("""
        WITH named AS (SELECT ptr[1] AS name, fcrdns, generic FROM a WHERE len(ptr) > 0)
        SELECT CASE WHEN len(string_split(name, '.')) >= 3 THEN substr(name, strpos(name, '.') + 1) ELSE name END,
               count(*), count(*) FILTER (fcrdns = 'confirmed'), count(*) FILTER (generic)
        FROM named GROUP BY 1"""):
        zones[zone] = dict(rows=n, confirmed=conf, generic=gen)
    out["zones"] = zones
    out["problems"] = q("SELECT count(*) FROM a WHERE severity IS NOT NULL")[0][0]
    return out


def compare(label, ours, theirs, errors):
    if ours != theirs:
        errors.append("%s: report says %r, DuckDB says %r" % (label, ours, theirs))


def cmd_figures(args):
    figures = json.load(open(args.json))
    want = duckdb_figures(args.audit)
    errors = []
    checked = 0
    for key in ["fcrdns", "ptr_class", "severity", "findings", "score_histogram", "score_sum", "scored", "headline", "problems"]:
        ours = figures[key]
        if isinstance(ours, dict):
            ours = {k: ours.get(k, 0) for k in want[key]} if key != "headline" else ours
        compare(key, ours, want[key], errors)
        checked += 1
    if figures["ipv4"] + figures["ipv6"] != want["rows_with_ip"]:
        errors.append("addresses: %d + %d, DuckDB %d" % (figures["ipv4"], figures["ipv6"], want["rows_with_ip"]))
    if not figures["networks_complete"] or figures["other_networks_rows"]:
        errors.append("the --json networks are not complete")
    ours_networks = {}
    for n in figures["networks"]:
        ours_networks[n["network"]] = {k: n[k] for k in want["networks"].get(n["network"], n) if k in n}
    if set(ours_networks) != set(want["networks"]):
        missing = sorted(set(want["networks"]) - set(ours_networks))[:5]
        extra = sorted(set(ours_networks) - set(want["networks"]))[:5]
        errors.append("networks differ: missing %s, extra %s" % (missing, extra))
    else:
        for net, counts in want["networks"].items():
            compare("network " + net, {k: ours_networks[net][k] for k in counts}, counts, errors)
            checked += 1
    if want["ipv6_prefix"] is not None and figures["ipv6_prefix"] != want["ipv6_prefix"]:
        errors.append("IPv6 grouping /%s, DuckDB /%s" % (figures["ipv6_prefix"], want["ipv6_prefix"]))
    ours_zones = {z["zone"]: dict(rows=z["rows"], confirmed=z["confirmed"], generic=z["generic"]) for z in figures["zones"]}
    if not figures["zones_complete"] or figures["other_zones_rows"]:
        errors.append("the --json zones are not complete")
    compare("zones (%d)" % len(want["zones"]), ours_zones, want["zones"], errors)
    checked += len(want["zones"])
    # The figures embedded in the page are the same ones (the page lists fewer networks and zones).
    html = open(args.html, encoding="utf-8").read()
    match = re.search(r'<script type="application/json" id="ptrscan-figures">(.*?)</script>', html, re.S)
    if not match:
        errors.append("the page embeds no figures")
    else:
        embedded = json.loads(match.group(1))
        for key in ["headline", "fcrdns", "ptr_class", "severity", "findings", "score_histogram", "problems", "rows", "baseline"]:
            compare("embedded " + key, embedded.get(key), figures.get(key), errors)
        full = {n["network"]: n for n in figures["networks"]}
        for n in embedded["networks"]:
            compare("embedded network " + n["network"], n, full.get(n["network"]), errors)
        # The headline cards show the same numbers.
        for label, value in [("FCrDNS confirmed", figures["headline"]["confirmed"]),
                             ("no PTR", figures["headline"]["no_ptr"])]:
            card = re.search(r'<div class="label">%s</div><div class="value">[^<]*</div><div class="detail">([\d,]+) addresses' % label, html)
            if not card or int(card.group(1).replace(",", "")) != value:
                errors.append("card %s does not show %d" % (label, value))
    for e in errors[:20]:
        print("report-check: " + e, file=sys.stderr)
    if errors:
        fail("%d figures differ from DuckDB's (%s)" % (len(errors), ", ".join(args.audit[:3])))
    print("report-check: %s: %d rows; headline, distributions, findings, scores, %d networks and %d zones equal DuckDB's"
          % (os.path.basename(args.audit[0]), want["rows_with_ip"], len(want["networks"]), len(want["zones"])))


SELFTEST = r"""
<script>
window.addEventListener("load", function () {
  var results = [];
  try {
    var table = document.getElementById("networks-table");
    var header = table.tHead.rows[0].cells[1];
    header.click();
    var first = parseFloat(table.tBodies[0].rows[0].cells[1].getAttribute("data-v"));
    header.click();
    var top = parseFloat(table.tBodies[0].rows[0].cells[1].getAttribute("data-v"));
    results.push(top >= first ? "sort-ok" : "sort-bad");
    var filter = document.getElementById("problems-table-text");
    var body = document.getElementById("problems-table").tBodies[0];
    var before = body.rows.length;
    if (before) {
      filter.value = "zzz-no-such-name";
      filter.dispatchEvent(new Event("input"));
      var none = body.rows.length === 0;
      filter.value = "";
      filter.dispatchEvent(new Event("input"));
      results.push(none && body.rows.length === before ? "filter-ok" : "filter-bad");
      var next = document.querySelector('.pager[data-for="problems-table"] [data-page="1"]');
      if (!next.disabled) {
        var firstRow = body.rows[0].textContent;
        next.click();
        results.push(body.rows[0].textContent !== firstRow ? "page-ok" : "page-bad");
      } else { results.push("page-ok"); }
    } else { results.push("filter-ok"); results.push("page-ok"); }
    var button = document.querySelector('[data-heat-mode="severity"]');
    button.click();
    results.push(document.getElementById("heatmaps").getAttribute("data-mode") === "severity" ? "heat-ok" : "heat-bad");
  } catch (error) { results.push("error:" + error); }
  document.body.setAttribute("data-selftest", results.join(" "));
});
</script>
"""


def chromium(args_list, timeout=120):
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not binary:
        fail("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    profile = tempfile.mkdtemp(prefix="report-check-chromium.")
    try:
        return subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"] + args_list,
            capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def console_problems(stderr):
    bad = []
    for line in stderr.splitlines():
        if re.search(r"CONSOLE|Uncaught|Refused to|ERR_|Content Security Policy|SyntaxError|TypeError", line):
            bad.append(line.strip())
    return bad


def cmd_browser(args):
    path = os.path.abspath(args.html)
    html = open(path, encoding="utf-8").read()
    errors = []
    # The page itself: DOM after scripts ran, console clean.
    run = chromium(["--dump-dom", "file://" + path])
    dom = run.stdout
    if run.returncode != 0 or "<html" not in dom:
        fail("chromium could not render %s: %s" % (path, run.stderr[-500:]))
    errors += ["console: " + line for line in console_problems(run.stderr)]
    required = {
        "summary cards": (r'<div class="card [a-z]+"><div class="label">', 5),
        "bar and score charts": (r'<svg class="chart"', 4),
        "findings table rows": (r'<tr><td><span class="code">', 5),
        "heat maps": (r'<svg class="heat"', 1),
        "worst networks table": (r'id="networks-table"', 1),
        "zones table": (r'id="zones-table"', 1),
        "problem table": (r'id="problems-table"', 1),
        "problem filter": (r'id="problems-table-text"', 1),
        "problem rows": (r'id="problems-table-rows"', 1),
        "legend": (r'id="legend"', 1),
        "embedded figures": (r'id="ptrscan-figures"', 1),
        "print stylesheet": (r"@media print", 1),
    }
    if "mx" in args.expect:
        required["domains table"] = (r'id="domains-table"', 1)
    if "baseline" in args.expect:
        required["changes summary"] = (r'<section id="changes">', 1)
    for name, (pattern, least) in required.items():
        found = len(re.findall(pattern, dom))
        if found < least:
            errors.append("%s: %d in the DOM, want at least %d" % (name, found, least))
    for index, svg in enumerate(re.findall(r'<svg class="heat".*?</svg>', dom, re.S)):
        cells = len(re.findall(r'<rect class="[ce]"', svg))
        if cells != 256:
            errors.append("heat map %d has %d squares, want 256" % (index + 1, cells))
        if not re.search(r"<title>[^<]*address", svg):
            errors.append("heat map %d has no tooltip with counts" % (index + 1))
    if re.search(r'(src|href)\s*=\s*"?(https?:)?//|url\(\s*["\']?(https?:)?//|@import', html):
        errors.append("the page references the network")
    # Its script: sort, filter and the heat-map switch, in a copy with a self-test.
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as copy:
        copy.write(html.replace("</body>", SELFTEST + "</body>"))
    try:
        run = chromium(["--dump-dom", "file://" + copy.name])
    finally:
        os.unlink(copy.name)
    selftest = re.search(r'data-selftest="([^"]*)"', run.stdout)
    if not selftest or selftest.group(1) != "sort-ok filter-ok page-ok heat-ok":
        errors.append("script self-test: %s" % (selftest.group(1) if selftest else "did not run"))
    errors += ["console (self-test): " + line for line in console_problems(run.stderr)]
    if args.screenshot:
        shot = os.path.abspath(args.screenshot)
        run = chromium(["--hide-scrollbars", "--screenshot=" + shot, "--window-size=%s" % args.window_size, "file://" + path])
        if run.returncode != 0 or not os.path.exists(shot) or os.path.getsize(shot) < 10000:
            errors.append("no screenshot written to %s" % shot)
    for e in errors[:20]:
        print("report-check: " + e, file=sys.stderr)
    if errors:
        fail("%d problems rendering %s in Chromium" % (len(errors), path))
    heat = len(re.findall(r'<svg class="heat"', dom))
    print("report-check: %s renders in headless Chromium: every section, %d heat maps of 256 squares, "
          "script self-test passed, no console errors%s"
          % (os.path.basename(path), heat, ", screenshot " + args.screenshot if args.screenshot else ""))


def cmd_generate(args):
    import duckdb
    con = duckdb.connect()
    n = args.rows
    con.execute("""
    CREATE TABLE g AS
    WITH base AS (
      SELECT i, hash(i) %% 100 AS k,
             '10.' || (i // 65536) || '.' || ((i // 256) %% 256) || '.' || (i %% 256) AS ip,
             (i // 65536) || '-' || ((i // 256) %% 256) || '-' || (i %% 256) AS dashed
      FROM range(%d) t(i))
    SELECT ip,
      CASE WHEN k < 40 OR k >= 96 THEN []::VARCHAR[]
           WHEN k < 65 THEN ['10-' || dashed || '.dyn.isp.example']
           WHEN k < 80 THEN ['mail' || (i %% 7) || '.corp' || (i %% 20000) || '.example']
           WHEN k < 88 THEN ['host.c' || (i %% 3000) || '.example']
           WHEN k < 93 THEN ['ip10-' || dashed || '.pool.isp.example']
           WHEN k < 96 THEN ['mail.m' || (i %% 900) || '.example', 'www.m' || (i %% 900) || '.example']
           ELSE ['vps' || i || '.cloud.hoster.example'] END AS ptr,
      CASE WHEN k < 40 THEN 'no_ptr' WHEN k < 80 THEN 'confirmed' WHEN k < 88 THEN 'mismatch'
           WHEN k < 93 THEN 'no_forward' WHEN k < 96 THEN 'confirmed' WHEN k < 99 THEN 'error' ELSE 'confirmed' END AS fcrdns,
      CASE WHEN k < 40 OR (k >= 96 AND k < 99) THEN NULL WHEN k < 65 THEN true WHEN k < 88 THEN false
           WHEN k < 93 THEN true WHEN k < 96 THEN false ELSE true END AS generic,
      CASE WHEN k < 40 OR (k >= 96 AND k < 99) THEN NULL WHEN k < 65 THEN 'dynamic' WHEN k < 80 THEN 'custom-mail'
           WHEN k < 88 THEN 'custom-other' WHEN k < 93 THEN 'static-generic' WHEN k < 96 THEN 'custom-other'
           ELSE 'hosting-cloud' END AS ptr_class,
      CASE WHEN k < 40 THEN 'high' WHEN k < 65 THEN 'medium' WHEN k < 80 THEN NULL WHEN k < 93 THEN 'high'
           WHEN k < 96 THEN 'medium' WHEN k < 99 THEN NULL ELSE 'medium' END AS severity,
      CASE WHEN k < 40 THEN ['no-ptr'] WHEN k < 65 THEN ['generic-ptr'] WHEN k < 80 THEN []::VARCHAR[]
           WHEN k < 88 THEN ['fcrdns-fail'] WHEN k < 93 THEN ['fcrdns-fail', 'generic-ptr']
           WHEN k < 96 THEN ['multiple-ptr', 'website-name'] WHEN k < 99 THEN []::VARCHAR[]
           ELSE ['generic-ptr'] END AS findings,
      CAST(CASE WHEN k < 40 THEN 0 WHEN k < 65 THEN 15 WHEN k < 80 THEN 25 WHEN k < 88 THEN 10 WHEN k < 93 THEN 5
           WHEN k < 96 THEN 20 WHEN k < 99 THEN 0 ELSE 15 END AS INTEGER) AS score,
      -- Columns a later version or the user adds: ignored by the report.
      CAST(k AS DOUBLE) / 100 AS generic_score, 'customer-' || (i %% 50) AS customer
    FROM base
    """ % n)
    con.execute("""COPY (SELECT ip, ptr, len(ptr)::INTEGER AS ptr_count, []::VARCHAR[] AS forward, fcrdns,
                   NULL::VARCHAR AS rcode, NULL::VARCHAR AS error, '127.0.0.1:53' AS resolver, 1 AS attempts,
                   0.25 AS rtt_ms, generic, ptr_class, []::VARCHAR[] AS reasons, severity, findings,
                   []::VARCHAR[] AS next_steps, score, generic_score, customer FROM g)
                   TO '%s' (FORMAT parquet, COMPRESSION zstd)""" % args.out.replace("'", "''"))
    if args.csv:
        con.execute("""COPY (SELECT ip, array_to_string(ptr, '|') AS ptr, fcrdns, generic, ptr_class, severity,
                       array_to_string(findings, '|') AS findings, score, customer FROM g)
                       TO '%s' (FORMAT csv, HEADER)""" % args.csv.replace("'", "''"))
    print("report-check: generated %d rows in %s%s" % (n, args.out, " and " + args.csv if args.csv else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("figures")
    p.add_argument("audit", nargs="+")
    p.add_argument("--json", required=True)
    p.add_argument("--html", required=True)
    p = sub.add_parser("browser")
    p.add_argument("html")
    p.add_argument("--screenshot")
    p.add_argument("--window-size", default="1280,2400")
    p.add_argument("--expect", action="append", default=[])
    p = sub.add_parser("generate")
    p.add_argument("out")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--csv")
    args = parser.parse_args()
    {"figures": cmd_figures, "browser": cmd_browser, "generate": cmd_generate}[args.command](args)


if __name__ == "__main__":
    main()
