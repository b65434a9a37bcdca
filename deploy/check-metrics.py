#!/usr/bin/env python3
"""Checks that the metrics deploy/ relies on exist.

Reads every PromQL expression of the Grafana dashboards (panel targets and
template-variable queries) and of the alert rules, takes the metric names
that start with `portrelay_` (a histogram's `_bucket`, `_sum` and `_count`
series count as the histogram) and the labels each expression selects or
groups by, and reports any name or label that the reference does not have.

The reference is either Prometheus text exposition (what `/metrics`
answers; give the relayer's and each ledger's, several files are merged)
or the metrics contract, `--contract docs/metrics.md` (its tables).

    deploy/check-metrics.py relayer.metrics ledger-*.metrics
    deploy/check-metrics.py --contract docs/metrics.md
    deploy/check-metrics.py --list            # the names deploy/ uses

Exit status: 0 all present, 1 something missing, 2 unreadable input.
Python 3.8+, standard library only (the rules file is read with a small
parser for the `expr:` keys of Prometheus rule files, plain or folded).
"""

import argparse
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DASHBOARDS = os.path.join(HERE, "grafana", "dashboards", "*.json")
DEFAULT_RULES = os.path.join(HERE, "prometheus", "alerts.yml")

NAME = re.compile(r"\bportrelay_[A-Za-z0-9_]*[A-Za-z0-9]")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Labels Prometheus adds to every series (target labels of
# deploy/prometheus/prometheus.yml included), so any expression may use them.
TARGET_LABELS = {"instance", "job", "instance_name", "ledger", "family"}
SELECTOR = re.compile(r"\{([^{}]*)\}")
MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^()]*)\)")
LABEL_VALUES = re.compile(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{[^}]*\})?\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)")


class Reference:
    """Metric families by base name: type and label names."""

    def __init__(self):
        self.types = {}
        self.labels = {}

    def add(self, name, kind=None, labels=()):
        if kind:
            self.types[name] = kind
        self.labels.setdefault(name, set()).update(labels)

    def resolve(self, used):
        """The family a used series name belongs to, or None."""
        for suffix in HISTOGRAM_SUFFIXES:
            if used.endswith(suffix):
                base = used[: -len(suffix)]
                if self.types.get(base) in ("histogram", "summary"):
                    return base
        return used if used in self.labels else None


def read_exposition(paths):
    ref = Reference()
    sample = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+\S+")
    label = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=\"(?:[^\"\\]|\\.)*\"")
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("# TYPE "):
                    parts = line.split()
                    if len(parts) >= 4:
                        ref.add(parts[2], parts[3])
                    continue
                if not line or line.startswith("#"):
                    continue
                m = sample.match(line)
                if not m:
                    continue
                name, labels = m.group(1), set(label.findall(m.group(3) or ""))
                family = name
                for suffix in HISTOGRAM_SUFFIXES:
                    base = name[: -len(suffix)] if name.endswith(suffix) else None
                    if base and ref.types.get(base) in ("histogram", "summary"):
                        family = base
                        labels.discard("le")
                        break
                ref.add(family, None, labels)
    return ref


def read_contract(path):
    """The metric tables of docs/metrics.md: | `name` | type | `labels` | meaning |."""
    ref = Reference()
    row = re.compile(r"^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*([a-z]+)\s*\|([^|]*)\|")
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = row.match(line.strip())
            if m:
                ref.add(m.group(1), m.group(2), re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", m.group(3)))
    if not ref.labels:
        raise ValueError(f"{path}: no metric table rows found")
    return ref


def dashboard_exprs(path):
    with open(path, encoding="utf-8") as f:
        board = json.load(f)
    out = []

    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(board.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr"):
                out.append((f"{os.path.basename(path)}: panel {p.get('title')!r}", t["expr"]))
    for v in board.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if isinstance(q, str) and q:
            out.append((f"{os.path.basename(path)}: variable {v.get('name')!r}", q))
    return out


def rule_exprs(path):
    """The `expr:` values of a Prometheus rule file (plain, quoted, or a block scalar)."""
    out = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    key = re.compile(r"^(\s*)(?:-\s+)?expr:\s*(.*)$")
    name = re.compile(r"^\s*(?:-\s+)?(?:alert|record):\s*(\S+)")
    current = "?"
    i = 0
    while i < len(lines):
        n = name.match(lines[i])
        if n:
            current = n.group(1)
        m = key.match(lines[i])
        i += 1
        if not m:
            continue
        indent, value = len(m.group(1)), m.group(2).strip()
        if value[:1] in ("|", ">"):
            block = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i].strip())
                i += 1
            value = " ".join(block)
        elif value[:1] in ("'", '"'):
            value = value[1:-1]
        out.append((f"{os.path.basename(path)}: rule {current}", value))
    return out


def strip_strings(expr):
    """The expression with the contents of string literals blanked (label values)."""
    return re.sub(r"\"(?:[^\"\\]|\\.)*\"", '""', expr)


def check(exprs, ref):
    problems = []
    for where, expr in exprs:
        names = set(NAME.findall(strip_strings(expr)))
        if not names:
            continue
        families = set()
        for used in sorted(names):
            family = ref.resolve(used)
            if family is None:
                problems.append(f"{where}: metric {used} is not in the reference")
            else:
                families.add(family)
        if not families:
            continue
        labels = set()
        for sel in SELECTOR.findall(expr):
            labels.update(MATCHER.findall(sel))
        for group in GROUPING.findall(expr):
            labels.update(l.strip() for l in group.split(",") if l.strip())
        for _, label in LABEL_VALUES.findall(expr):
            labels.add(label)
        known = set(TARGET_LABELS)
        for fam in families:
            known |= ref.labels.get(fam, set())
            if ref.types.get(fam) == "histogram":
                known.add("le")
        for label in sorted(labels - known):
            problems.append(f"{where}: label {label!r} is not a label of {', '.join(sorted(families))}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("exposition", nargs="*", help="files of Prometheus text exposition (/metrics answers)")
    ap.add_argument("--contract", metavar="METRICS_MD", help="check against docs/metrics.md's tables instead")
    ap.add_argument("--dashboards", nargs="+", metavar="JSON", help=f"default: {DEFAULT_DASHBOARDS}")
    ap.add_argument("--rules", nargs="+", metavar="YAML", help=f"default: {DEFAULT_RULES}")
    ap.add_argument("--list", action="store_true", help="print the metric names used, one a line, and exit")
    args = ap.parse_args()

    try:
        dashboards = args.dashboards or sorted(glob.glob(DEFAULT_DASHBOARDS))
        rules = args.rules or [DEFAULT_RULES]
        if not dashboards:
            raise ValueError(f"no dashboards at {DEFAULT_DASHBOARDS}")
        exprs = []
        for d in dashboards:
            exprs += dashboard_exprs(d)
        for r in rules:
            exprs += rule_exprs(r)
        if args.list:
            for n in sorted({n for _, e in exprs for n in NAME.findall(strip_strings(e))}):
                print(n)
            return 0
        if args.contract and args.exposition:
            ap.error("give either --contract or exposition files, not both")
        if args.contract:
            ref, source = read_contract(args.contract), args.contract
        elif args.exposition:
            ref, source = read_exposition(args.exposition), ", ".join(args.exposition)
        else:
            ap.error("give exposition files or --contract docs/metrics.md")
    except (OSError, ValueError) as e:
        print(f"check-metrics: {e}", file=sys.stderr)
        return 2

    problems = list(dict.fromkeys(check(exprs, ref)))
    used = {n for _, e in exprs for n in NAME.findall(strip_strings(e))}
    if problems:
        for p in problems:
            print(p)
        print(f"check-metrics: {len(problems)} problem(s) against {source}", file=sys.stderr)
        return 1
    print(f"check-metrics: ok: {len(used)} metric names in {len(exprs)} expressions "
          f"({len(dashboards)} dashboards, {len(rules)} rule files) are in {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
