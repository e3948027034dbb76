#!/usr/bin/env python3
"""Validate Wardwatch records against the JSON Schemas in this directory.

    python3 schemas/validate.py examples [DIR]
    python3 schemas/validate.py records FILE
    python3 schemas/validate.py --schemas DIR ...

`examples` checks schemas/examples/<topic>/ for every topic with a schema:
  valid/*.json             must pass the schema and the semantic checks;
  invalid/*.json           must fail the JSON Schema itself;
  invalid-semantic/*.json  must pass the JSON Schema but fail a semantic check
                           (rules JSON Schema cannot express, see SEMANTIC below);
and every invalid example must be listed in <topic>/expected-errors.json with a
substring of the error it is meant to trigger, so an example cannot pass by
failing for the wrong reason.

`records` checks a JSON-lines file. Each line is either a bare observation (the
output of `wardwatch capture --output -`) or an envelope
{"topic": "iomt.devices.v1", "key": "...", "value": {...}} (the output of
`wardwatch demo --json`). The schema is chosen by the topic, whatever its
prefix; the envelope key must equal value.device_key (value.unmapped.device_key
for alerts); an optional headers["wardwatch-schema"] must equal the schema $id.
An empty file fails.

Both modes print one line per file or failing record and end with the line
`N passed, N failed`; the exit status is non-zero on any failure.
Requires the `jsonschema` package (4.18 or later).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

try:
    from jsonschema import Draft202012Validator, FormatChecker
except ImportError:  # pragma: no cover - environment problem
    sys.stderr.write("validate.py needs the jsonschema package: pip install jsonschema\n")
    sys.exit(2)

# Topic name without prefix -> schema file.
SCHEMA_FILES = {
    "observations.v1": "observation.v1.schema.json",
    "devices.v1": "device.v1.schema.json",
    "alerts.v1": "alert.v1.schema.json",
}

# The Wardwatch namespace for name-based finding uids (docs/topics.md).
WARDWATCH_NAMESPACE = uuid.UUID("6f1c1f0e-8a47-5b7e-9d1e-2f6a3c0d4e5f")
NEW_DEVICE_TITLE = "New device observed"

MAX_ERRORS_PER_RECORD = 8


def topic_short_name(topic: str) -> str | None:
    """'iomt.devices.v1', 'acme-iomt.devices.v1' or 'devices.v1' -> 'devices.v1'; None if unknown."""
    for short in SCHEMA_FILES:
        if topic.endswith(short):
            return short
    return None


def format_checker() -> FormatChecker:
    """jsonschema's format checker, with a stdlib date-time check when rfc3339-validator is not installed
    (jsonschema then silently skips the date-time format)."""
    checker = FormatChecker()
    if "date-time" not in checker.checkers:
        @checker.checks("date-time", raises=ValueError)
        def _date_time(instance: object) -> bool:
            if not isinstance(instance, str):
                return True
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})", instance):
                return False
            datetime.fromisoformat(instance.upper().replace("Z", "+00:00")[:19])
            return True
    return checker


def load_validators(schema_dir: Path) -> dict[str, Draft202012Validator]:
    checker = format_checker()
    validators = {}
    for short, filename in SCHEMA_FILES.items():
        path = schema_dir / filename
        with path.open(encoding="utf-8") as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        validators[short] = Draft202012Validator(schema, format_checker=checker)
    return validators


def schema_errors(validator: Draft202012Validator, value: Any) -> list[str]:
    """Every schema error as 'json.path: message [schema path]', sorted by location."""
    errors = sorted(validator.iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), list(map(str, e.schema_path))))
    out = []
    for e in errors:
        schema_path = "/".join(str(p) for p in e.schema_path)
        out.append(f"{e.json_path}: {e.message} [schema: {schema_path}]")
    return out


# --- semantic checks: rules the JSON Schemas cannot express ---------------------------------------------


def _observation_semantics(v: dict) -> list[str]:
    errs = []
    kind = v.get("kind")
    payload = v.get(kind) if isinstance(kind, str) else None
    if kind == "dhcp" and isinstance(payload, dict):
        if v.get("device_key") != payload.get("client_mac"):
            errs.append(f"$.device_key: {v.get('device_key')!r} is not dhcp.client_mac {payload.get('client_mac')!r}")
    if kind == "arp" and isinstance(payload, dict):
        if v.get("device_key") != payload.get("sender_mac"):
            errs.append(f"$.device_key: {v.get('device_key')!r} is not arp.sender_mac {payload.get('sender_mac')!r}")
        expected = payload.get("sender_ip") == payload.get("target_ip")
        if payload.get("gratuitous") is not expected:
            errs.append(f"$.arp.gratuitous: is {payload.get('gratuitous')!r} but sender_ip == target_ip is {expected}")
    return errs


def _sorted_check(path: str, items: list, keys: list[tuple[str, Callable[[Any], Any]]]) -> list[str]:
    for _, key in keys:
        try:
            if items == sorted(items, key=key):
                return []
        except (TypeError, ValueError):
            continue
    orders = " or ".join(name for name, _ in keys)
    return [f"{path}: {items!r} is not sorted ({orders})"]


def _device_semantics(v: dict) -> list[str]:
    errs = []
    if v.get("mac") != v.get("device_key"):
        errs.append(f"$.mac: {v.get('mac')!r} is not device_key {v.get('device_key')!r}")
    ips = v.get("ips")
    if isinstance(ips, list) and all(isinstance(i, str) for i in ips):
        errs += _sorted_check("$.ips", ips, [("by address", lambda s: int(ipaddress.IPv4Address(s))), ("as strings", lambda s: s)])
    for field in ("hostnames", "sensors", "observation_kinds", "vlans"):
        items = v.get(field)
        if isinstance(items, list):
            errs += _sorted_check(f"$.{field}", items, [("ascending", lambda x: x)])
    first, last = v.get("first_seen"), v.get("last_seen")
    if isinstance(first, str) and isinstance(last, str) and last < first:
        errs.append(f"$.last_seen: {last} is before first_seen {first}")
    inventory = v.get("inventory")
    if isinstance(inventory, dict):
        key = v.get("device_key")
        if (inventory.get("device") or {}).get("uid") != key:
            errs.append(f"$.inventory.device.uid: is not device_key {key!r}")
        if (inventory.get("unmapped") or {}).get("device_key") != key:
            errs.append(f"$.inventory.unmapped.device_key: is not device_key {key!r}")
    return errs


def new_device_finding_uid(device_key: str) -> str:
    return str(uuid.uuid5(WARDWATCH_NAMESPACE, f"wardwatch:new-device:{device_key}"))


def _alert_semantics(v: dict) -> list[str]:
    errs = []
    unmapped = v.get("unmapped") if isinstance(v.get("unmapped"), dict) else {}
    device = v.get("device") if isinstance(v.get("device"), dict) else {}
    info = v.get("finding_info") if isinstance(v.get("finding_info"), dict) else {}
    key = unmapped.get("device_key")
    if "mac" in device and device.get("mac") != key:
        errs.append(f"$.device.mac: {device.get('mac')!r} is not unmapped.device_key {key!r}")
    if "uid" in device and device.get("uid") != key:
        errs.append(f"$.device.uid: {device.get('uid')!r} is not unmapped.device_key {key!r}")
    seen_names = set()
    for i, obs in enumerate(v.get("observables") or []):
        if not isinstance(obs, dict):
            continue
        name = obs.get("name")
        if name in seen_names:
            errs.append(f"$.observables[{i}].name: {name!r} is listed twice")
        seen_names.add(name)
        if isinstance(name, str) and name.startswith("device."):
            attr = name[len("device."):]
            if device.get(attr) != obs.get("value"):
                errs.append(f"$.observables[{i}].value: {obs.get('value')!r} is not {name} {device.get(attr)!r}")
    if info.get("title") == NEW_DEVICE_TITLE and isinstance(key, str):
        expected = new_device_finding_uid(key)
        if info.get("uid") != expected:
            errs.append(f"$.finding_info.uid: {info.get('uid')!r} is not uuid5(wardwatch namespace, "
                        f"'wardwatch:new-device:{key}') = {expected!r}")
        if "first_seen_time" in info and info.get("first_seen_time") != v.get("time"):
            errs.append(f"$.finding_info.first_seen_time: {info.get('first_seen_time')!r} is not time {v.get('time')!r}")
    return errs


SEMANTIC: dict[str, Callable[[dict], list[str]]] = {
    "observations.v1": _observation_semantics,
    "devices.v1": _device_semantics,
    "alerts.v1": _alert_semantics,
}


def semantic_errors(short: str, value: Any) -> list[str]:
    if not isinstance(value, dict):
        return []
    return SEMANTIC[short](value)


def check_value(validators: dict[str, Draft202012Validator], short: str, value: Any) -> tuple[list[str], list[str]]:
    """(schema errors, semantic errors); semantic checks run only on schema-valid values."""
    errs = schema_errors(validators[short], value)
    if errs:
        return errs, []
    return [], semantic_errors(short, value)


# --- examples mode ------------------------------------------------------------------------------------


def run_examples(validators: dict[str, Draft202012Validator], examples_dir: Path) -> int:
    passed = failed = 0

    def report(ok: bool, label: str, detail: str = "") -> None:
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
        print(f"{'PASS' if ok else 'FAIL'} {label}{(': ' + detail) if detail else ''}")

    if not examples_dir.is_dir():
        print(f"FAIL {examples_dir}: no such directory")
        print("0 passed, 1 failed")
        return 1

    for topic_dir in sorted(p for p in examples_dir.iterdir() if p.is_dir()):
        short = topic_dir.name
        if short not in validators:
            report(False, f"{short}/", f"no schema for topic {short!r} (known: {', '.join(SCHEMA_FILES)})")
            continue
        expected_path = topic_dir / "expected-errors.json"
        expected: dict[str, str] = {}
        if expected_path.exists():
            try:
                expected = json.loads(expected_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                report(False, f"{short}/expected-errors.json", f"not JSON: {e}")
        counts = {"valid": 0, "invalid": 0}
        listed = set()
        for group in ("valid", "invalid", "invalid-semantic"):
            for path in sorted((topic_dir / group).glob("*.json")):
                label = f"{short}/{group}/{path.name}"
                rel = f"{group}/{path.name}"
                try:
                    value = json.loads(path.read_text(encoding="utf-8"))
                except json.JSONDecodeError as e:
                    report(False, label, f"not JSON: {e}")
                    continue
                s_errs, m_errs = check_value(validators, short, value)
                if group == "valid":
                    counts["valid"] += 1
                    errs = s_errs + m_errs
                    report(not errs, label, "; ".join(errs[:MAX_ERRORS_PER_RECORD]))
                    continue
                counts["invalid"] += 1
                listed.add(rel)
                if group == "invalid" and not s_errs:
                    report(False, label, "passes the JSON Schema but must fail it"
                           + (f" (only semantic errors: {'; '.join(m_errs)})" if m_errs else ""))
                    continue
                if group == "invalid-semantic" and s_errs:
                    report(False, label, "must pass the JSON Schema and fail only a semantic check, "
                           f"but the schema rejects it: {'; '.join(s_errs[:MAX_ERRORS_PER_RECORD])}")
                    continue
                if group == "invalid-semantic" and not m_errs:
                    report(False, label, "passes every check but must fail a semantic check")
                    continue
                errs = s_errs or m_errs
                want = expected.get(rel)
                if want is None:
                    report(False, label, f"rejected ({errs[0]}) but has no entry in {short}/expected-errors.json")
                elif not any(want in e for e in errs):
                    report(False, label, f"rejected, but not for the expected reason {want!r}: {'; '.join(errs[:MAX_ERRORS_PER_RECORD])}")
                else:
                    report(True, label, f"rejected as expected: {next(e for e in errs if want in e)}")
        for rel in sorted(set(expected) - listed):
            report(False, f"{short}/expected-errors.json", f"lists {rel}, which does not exist")
        if counts["valid"] == 0 or counts["invalid"] == 0:
            report(False, f"{short}/", f"needs valid and invalid examples (has {counts['valid']} valid, {counts['invalid']} invalid)")

    for short in sorted(set(validators) - {p.name for p in examples_dir.iterdir() if p.is_dir()}):
        report(False, f"{short}/", "schema has no examples directory")

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


# --- records mode -------------------------------------------------------------------------------------


def run_records(validators: dict[str, Draft202012Validator], file: Path) -> int:
    passed = failed = 0
    ids = {short: v.schema.get("$id") for short, v in validators.items()}
    try:
        text = file.read_text(encoding="utf-8") if str(file) != "-" else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as e:
        print(f"FAIL {file}: cannot read: {e}")
        print("0 passed, 1 failed")
        return 1

    def fail(lineno: int, msg: str) -> None:
        nonlocal failed
        failed += 1
        print(f"FAIL line {lineno}: {msg}")

    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            fail(lineno, f"not JSON: {e}")
            continue
        if isinstance(record, dict) and "topic" in record and "value" in record:
            topic = record.get("topic")
            short = topic_short_name(topic) if isinstance(topic, str) else None
            if short is None:
                fail(lineno, f"no schema for topic {topic!r}")
                continue
            value = record["value"]
            where = f"{topic}"
            problems = []
            if "key" not in record:
                problems.append("envelope has no key")
            else:
                key = record["key"]
                if short == "alerts.v1":
                    vkey = value.get("unmapped", {}).get("device_key") if isinstance(value, dict) and isinstance(value.get("unmapped"), dict) else None
                    field = "value.unmapped.device_key"
                else:
                    vkey = value.get("device_key") if isinstance(value, dict) else None
                    field = "value.device_key"
                if key != vkey:
                    problems.append(f"envelope key {key!r} is not {field} {vkey!r}")
            headers = record.get("headers")
            if isinstance(headers, dict) and "wardwatch-schema" in headers and headers["wardwatch-schema"] != ids[short]:
                problems.append(f"header wardwatch-schema {headers['wardwatch-schema']!r} is not {ids[short]!r}")
        else:
            short, value, where, problems = "observations.v1", record, "observation", []
        s_errs, m_errs = check_value(validators, short, value)
        errs = problems + s_errs + m_errs
        if errs:
            failed += 1
            print(f"FAIL line {lineno} ({where}):")
            for e in errs[:MAX_ERRORS_PER_RECORD]:
                print(f"    {e}")
            if len(errs) > MAX_ERRORS_PER_RECORD:
                print(f"    ... and {len(errs) - MAX_ERRORS_PER_RECORD} more")
        else:
            passed += 1

    if passed == 0 and failed == 0:
        print(f"FAIL {file}: no records (the file is empty)")
        failed = 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate Wardwatch records against schemas/*.schema.json.")
    parser.add_argument("--schemas", type=Path, default=Path(__file__).resolve().parent,
                        help="directory holding the *.schema.json files (default: this script's directory)")
    sub = parser.add_subparsers(dest="mode", required=True)
    ex = sub.add_parser("examples", help="check valid/invalid examples")
    ex.add_argument("dir", nargs="?", type=Path, help="examples directory (default: SCHEMAS/examples)")
    rec = sub.add_parser("records", help="check a JSON-lines file of observations or topic envelopes ('-' for stdin)")
    rec.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    try:
        validators = load_validators(args.schemas)
    except Exception as e:  # noqa: BLE001 - report any schema loading problem plainly
        print(f"FAIL cannot load schemas from {args.schemas}: {e}")
        print("0 passed, 1 failed")
        return 1

    if args.mode == "examples":
        return run_examples(validators, args.dir or args.schemas / "examples")
    return run_records(validators, args.file)


if __name__ == "__main__":
    sys.exit(main())
