#!/usr/bin/env python3
"""Compare ptrscan output with a gen_world.py truth.tsv.

Usage:
    check_rows.py [--no-extra] [--ptr-only] OUTPUT truth.tsv

OUTPUT by extension:
  .csv      header row; columns selected by name: ip, ptr (sorted names joined by "|"),
            fcrdns required; ptr_count, rcode, error checked when present; others ignored.
  .jsonl    one JSON object per line with the same keys; "ptr" must be a list of strings.
  .parquet  read with pyarrow ("ptr" must be list<string>) and again with DuckDB
            (SELECT ip, ptr, fcrdns FROM read_parquet(?); "ptr" must be VARCHAR[]);
            both readings are compared with the truth.  pyarrow/duckdb are
            pip-installed on first use if missing.

Checks: exactly one row per truth ip (reports missing, duplicated and extra ips);
per row ptr and fcrdns equal to the truth (exact string compare of the "|"-joined,
sorted names, so case, trailing dots and order matter).  Unless --no-extra:
ptr_count == number of names, rcode is NXDOMAIN (or 3) for no_ptr rows and NOERROR
(or 0) otherwise, error is empty/null.  IPs are compared in canonical form.
With --ptr-only (output of `ptrscan scan --ptr-only`) the ptr column is compared
as usual; fcrdns must be "no_ptr" where the truth says no_ptr, else "unchecked".
Prints a summary and the first 10 differences; exit 0 if identical, 1 otherwise,
2 on usage/format errors.
"""

import csv
import ipaddress
import json
import os
import re
import subprocess
import sys

csv.field_size_limit(1 << 24)


def die(msg):
    print("check_rows: error: " + msg, file=sys.stderr)
    sys.exit(2)


def canon_ip(s):
    try:
        return str(ipaddress.ip_address(str(s).strip()))
    except ValueError:
        return None


def load_truth(path):
    truth = {}
    with open(path, newline="") as f:
        r = csv.reader(f, delimiter="\t")
        header = next(r)
        if header != ["ip", "ptr", "fcrdns"]:
            die("%s: unexpected header %r" % (path, header))
        for row in r:
            truth[str(ipaddress.ip_address(row[0]))] = (row[1], row[2])
    return truth


def norm_rcode(v):
    if v is None:
        return ""
    s = "".join(ch for ch in str(v).upper() if ch.isalnum())
    return {"0": "NOERROR", "3": "NXDOMAIN", "2": "SERVFAIL", "5": "REFUSED"}.get(s, s)


def rows_csv(path):
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        if r.fieldnames is None:
            die("%s: empty file" % path)
        for need in ("ip", "ptr", "fcrdns"):
            if need not in r.fieldnames:
                die("%s: no %r column (header: %s)" % (path, need, ",".join(r.fieldnames)))
        for row in r:
            ptr = row["ptr"] or ""
            yield {"ip": row["ip"], "ptr": ptr, "fcrdns": row["fcrdns"],
                   "ptr_count": row.get("ptr_count"), "rcode": row.get("rcode"),
                   "error": row.get("error"), "_has": r.fieldnames}


def join_list(v, where):
    if v is None:
        return ""
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
        raise TypeError("%s: ptr is %r, expected a list of strings" % (where, v))
    return "|".join(v)


def rows_jsonl(path):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                o = json.loads(line)
            except ValueError as e:
                die("%s:%d: bad JSON: %s" % (path, n, e))
            for need in ("ip", "ptr", "fcrdns"):
                if need not in o:
                    die("%s:%d: no %r key" % (path, n, need))
            try:
                ptr = join_list(o["ptr"], "%s:%d" % (path, n))
            except TypeError as e:
                die(str(e))
            yield {"ip": o["ip"], "ptr": ptr, "fcrdns": o["fcrdns"],
                   "ptr_count": o.get("ptr_count"), "rcode": o.get("rcode"),
                   "error": o.get("error"), "_has": o.keys()}


def ensure_parquet_libs():
    try:
        import pyarrow  # noqa: F401
        import duckdb  # noqa: F401
    except ImportError:
        print("check_rows: installing pyarrow duckdb with pip", file=sys.stderr)
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "pyarrow", "duckdb"]
        if subprocess.call(cmd) != 0:
            if subprocess.call(cmd + ["--break-system-packages"]) != 0:
                die("pip install pyarrow duckdb failed")
        import importlib
        importlib.invalidate_caches()


def parquet_parts(path):
    """OUT.parquet plus the parts a long or resumed scan adds (OUT-0001.parquet, ...)."""
    import glob
    stem, ext = os.path.splitext(path)
    more = sorted(p for p in glob.glob(glob.escape(stem) + "-*" + ext)
                  if re.fullmatch(r"-\d{4,}", p[len(stem):-len(ext)]))
    return [path] + more


def rows_parquet_arrow(path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        t = pa.concat_tables([pq.read_table(p) for p in parquet_parts(path)])
    except Exception as e:  # pyarrow raises several types
        die("%s: cannot read parquet: %s" % (path, e))
    names = t.schema.names
    for need in ("ip", "ptr", "fcrdns"):
        if need not in names:
            die("%s: no %r column (schema: %s)" % (path, need, t.schema))
    ty = t.schema.field("ptr").type
    if not (pa.types.is_list(ty) and pa.types.is_string(ty.value_type)):
        die("%s: pyarrow sees ptr as %s, expected list<string>" % (path, ty))
    cols = {n: t.column(n).to_pylist() for n in ("ip", "ptr", "fcrdns", "ptr_count", "rcode", "error")
            if n in names}
    n = t.num_rows
    for i in range(n):
        yield {"ip": cols["ip"][i], "ptr": join_list(cols["ptr"][i], "%s row %d" % (path, i)),
               "fcrdns": cols["fcrdns"][i],
               "ptr_count": cols["ptr_count"][i] if "ptr_count" in cols else None,
               "rcode": cols["rcode"][i] if "rcode" in cols else None,
               "error": cols["error"][i] if "error" in cols else None,
               "_has": names}


def rows_parquet_duckdb(path):
    import duckdb
    con = duckdb.connect()
    parts = parquet_parts(path)
    desc = con.execute("DESCRIBE SELECT ip, ptr, fcrdns FROM read_parquet(?)", [parts]).fetchall()
    types = {r[0]: r[1] for r in desc}
    if types.get("ptr") != "VARCHAR[]":
        die("%s: DuckDB sees ptr as %s, expected VARCHAR[]" % (path, types.get("ptr")))
    for ip, ptr, fc in con.execute("SELECT ip, ptr, fcrdns FROM read_parquet(?)", [parts]).fetchall():
        yield {"ip": ip, "ptr": join_list(ptr, path + " (duckdb)"), "fcrdns": fc,
               "ptr_count": None, "rcode": None, "error": None, "_has": ("ip", "ptr", "fcrdns")}


def compare(label, rows, truth, extra, ptr_only=False):
    seen = {}
    diffs = []          # (kind, message)
    kinds = {}
    n = 0

    def add(kind, msg):
        kinds[kind] = kinds.get(kind, 0) + 1
        if len(diffs) < 10:
            diffs.append("%s: %s" % (kind, msg))

    for row in rows:
        n += 1
        ip = canon_ip(row["ip"])
        if ip is None:
            add("bad_ip", "row %d: ip %r" % (n, row["ip"]))
            continue
        if ip in seen:
            add("duplicate", "%s (rows %d and %d)" % (ip, seen[ip], n))
            continue
        seen[ip] = n
        t = truth.get(ip)
        if t is None:
            add("extra", "%s not in truth" % ip)
            continue
        tptr, tfc = t
        ptr = row["ptr"] if row["ptr"] is not None else ""
        if ptr != tptr:
            add("ptr", "%s: got %r, want %r" % (ip, ptr, tptr))
        if ptr_only:
            want = "no_ptr" if tfc == "no_ptr" else "unchecked"
            if row["fcrdns"] != want:
                add("fcrdns", "%s: got %r, want %r (--ptr-only)" % (ip, row["fcrdns"], want))
        elif row["fcrdns"] != tfc:
            add("fcrdns", "%s: got %r, want %r (ptr %r)" % (ip, row["fcrdns"], tfc, tptr))
        if extra:
            has = row["_has"]
            if "ptr_count" in has:
                want = len(tptr.split("|")) if tptr else 0
                try:
                    got = int(row["ptr_count"])
                except (TypeError, ValueError):
                    got = row["ptr_count"]
                if got != want:
                    add("ptr_count", "%s: got %r, want %d" % (ip, row["ptr_count"], want))
            if "rcode" in has:
                want = "NXDOMAIN" if tfc == "no_ptr" else "NOERROR"
                if norm_rcode(row["rcode"]) != want:
                    add("rcode", "%s: got %r, want %s" % (ip, row["rcode"], want))
            if "error" in has and row["error"] not in (None, ""):
                add("error", "%s: %r" % (ip, row["error"]))
    missing = [ip for ip in truth if ip not in seen]
    for ip in missing[:10]:
        if len(diffs) < 10:
            diffs.append("missing: %s" % ip)
    if missing:
        kinds["missing"] = len(missing)
    ok = not kinds
    print("check_rows: %s: %d rows, %d truth ips: %s" % (
        label, n, len(truth),
        "OK" if ok else "DIFFERENCES " + ", ".join("%s=%d" % kv for kv in sorted(kinds.items()))))
    for d in diffs:
        print("  " + d)
    return ok


def main():
    args = sys.argv[1:]
    extra, ptr_only = True, False
    while args and args[0] in ("--no-extra", "--ptr-only"):
        if args[0] == "--no-extra":
            extra = False
        else:
            ptr_only = True
        args = args[1:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out, truth_path = args
    if not os.path.isfile(out):
        die("%s: no such file" % out)
    truth = load_truth(truth_path)
    if out.endswith(".csv"):
        ok = compare(out, rows_csv(out), truth, extra, ptr_only)
    elif out.endswith(".jsonl"):
        ok = compare(out, rows_jsonl(out), truth, extra, ptr_only)
    elif out.endswith(".parquet"):
        ensure_parquet_libs()
        ok = compare(out + " (pyarrow)", rows_parquet_arrow(out), truth, extra, ptr_only)
        ok = compare(out + " (duckdb)", rows_parquet_duckdb(out), truth, extra, ptr_only) and ok
    else:
        die("%s: unknown extension (want .csv, .jsonl or .parquet)" % out)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
