"""Shared by scripts/zeek-rtt-check and scripts/community-id-check (Python 3, standard library).

Reads Zeek ASCII (TSV) logs as zeek-cut does, finds the conformance captures, and runs
`PKTSTAT flows --format zeek FILE`. Not a script itself: the two checks import it.
"""
import ipaddress
import os
import re
import shlex
import subprocess

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
# The shared conformance corpus beside the checkout (../shared/conformance).
CONFORMANCE = os.path.normpath(os.path.join(ROOT, "..", "shared", "conformance"))
DEFAULT_PATHS = [os.path.join(CONFORMANCE, "zeek"), os.path.join(CONFORMANCE, "captures")]
CAPTURE_RE = re.compile(r"\.(pcap|pcapng|cap)(\.(gz|zst))?$")
ESCAPE_RE = re.compile(r"\\(\\|x[0-9A-Fa-f]{2})")
TIMEOUT = 120
EX_USAGE = 64


class LogError(Exception):
    pass


def unescape(s):
    """`\\xNN` is the byte NN and `\\\\` a backslash (how Zeek's writer escapes them)."""
    if "\\" not in s:
        return s
    raw = ESCAPE_RE.sub(lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1)[1:], 16)), s)
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def read_log(text):
    """One Zeek ASCII log. Returns (fields, types, rows); each row is a dict field -> None
    (unset), '' (the empty marker on a scalar), a list (set/vector) or a str (unescaped)."""
    sep, set_sep, empty, unset = "\t", ",", "(empty)", "-"
    fields = types = None
    rows = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for n, line in enumerate(lines, start=1):
        if line.startswith("#separator "):
            sep = unescape(line[len("#separator "):])
            if not sep:
                raise LogError("line %d: empty #separator" % n)
            continue
        if line.startswith("#"):
            key, _, value = line[1:].partition(sep)
            if key == "set_separator":
                set_sep = unescape(value)
            elif key == "empty_field":
                empty = unescape(value)
            elif key == "unset_field":
                unset = unescape(value)
            elif key == "fields":
                if rows and value.split(sep) != fields:
                    raise LogError("line %d: a #fields line after rows names other fields" % n)
                fields = value.split(sep)
            elif key == "types":
                types = value.split(sep)
            if fields and types and len(fields) != len(types):
                raise LogError("line %d: #fields has %d names, #types %d" % (n, len(fields), len(types)))
            continue
        if fields is None:
            raise LogError("line %d: a row before #fields" % n)
        vals = line.split(sep)
        if len(vals) != len(fields):
            raise LogError("line %d has %d fields, #fields names %d" % (n, len(vals), len(fields)))
        row = {}
        for i, (name, raw) in enumerate(zip(fields, vals)):
            typ = types[i] if types else ""
            container = typ.startswith("set[") or typ.startswith("vector[")
            if raw == unset:
                row[name] = None
            elif raw == empty:
                row[name] = [] if container else ""
            elif container:
                row[name] = [unescape(e) for e in raw.split(set_sep)]
            else:
                row[name] = unescape(raw)
        rows.append(row)
    if fields is None:
        raise LogError("no #fields line")
    return fields, types, rows


def captures(paths):
    """The capture files under `paths` (files, or folders whose *.pcap*, *.pcapng*, *.cap* files
    are taken), sorted."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            out += [os.path.join(p, n) for n in sorted(os.listdir(p)) if CAPTURE_RE.search(n)]
        else:
            out.append(p)
    return out


def expected_errors(path):
    """The files that ../shared/conformance/captures/EXPECT_ERROR says pktstat may refuse."""
    listing = os.path.join(os.path.dirname(path), "EXPECT_ERROR")
    names = set()
    if os.path.isfile(listing):
        with open(listing) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    names.add(line.split("\t")[0])
    return names


def run_pktstat(command, path, extra=()):
    """Runs `COMMAND flows --format zeek [EXTRA...] PATH`. Returns (status, stdout, stderr)."""
    argv = shlex.split(command) + ["flows", "--format", "zeek"] + list(extra) + [path]
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % TIMEOUT
    except OSError as e:
        return None, "", str(e)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def pktstat_log(command, path, extra=()):
    """The parsed conn.log of one capture: ('ok', (fields, types, rows)), ('skip', why) for a file
    EXPECT_ERROR lists that pktstat refused, ('usage', stderr) when pktstat has no
    `flows --format zeek`, or ('fail', why)."""
    status, out, err = run_pktstat(command, path, extra)
    name = os.path.basename(path)
    first_err = (err.strip().splitlines() or [""])[0]
    if status == EX_USAGE:
        return "usage", first_err
    if status != 0:
        if status is not None and name in expected_errors(path):
            return "skip", "%s: pktstat refused it (listed in EXPECT_ERROR): %s" % (name, first_err)
        return "fail", "%s: pktstat exited %s: %s" % (name, status, first_err)
    try:
        return "ok", read_log(out)
    except LogError as e:
        return "fail", "%s: not a Zeek log: %s" % (name, e)


def norm_addr(text):
    try:
        return str(ipaddress.ip_address(text))
    except (ValueError, TypeError):
        return text
