#!/usr/bin/env python3
"""Checks every FHIR resource the Rust tests captured against an independent FHIR model.

Usage: scripts/fhir_validate.py DIR

DIR holds the files the server tests write when TW_FHIR_CAPTURE_DIR is set
(crates/server/tests/common/fhir.rs), each `{"request": path, "resource": body}`. Every
`resource` -- Bundles (and the resources in them), OperationOutcomes, the
CapabilityStatement and every other resource -- is parsed with the `fhir.resources`
package's models, which refuse unknown elements, wrong types, malformed primitives
(dates, ids, codes...) and missing required elements.

Models: `fhir.resources` 8.x defaults to FHIR R5 and ships only `R4B` (FHIR 4.3.0) and
`STU3` besides, no 4.0.1. R4B is R4 (4.0.1) with changes mostly confined to the
medication-definition, evidence and subscription resources, so its models are the ones
the server's R4 output is checked against. Where R4B differs from R4 for an element the
server sends, the difference shows up here as an error: nothing passes silently.

Exit status: 0 when every file is valid; 1 when any is not (each printed with its
request path and the errors), when DIR holds no captured file at all (a broken capture
must not pass), or when a file is not a capture.
"""

import json
import sys
from pathlib import Path

PIN = "fhir.resources==8.3.0"

try:
    from fhir.resources.R4B import get_fhir_model_class
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit(
        f"error: the Python package fhir.resources (with its R4B models) is needed: "
        f"python3 -m pip install '{PIN}'"
    )


def validate(resource):
    """Returns None if `resource` is a valid FHIR R4B resource, else why not."""
    if not isinstance(resource, dict):
        return "not a JSON object"
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        return "no resourceType"
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        return f"{resource_type} is not a FHIR resource type"
    try:
        model.model_validate(resource)
    except Exception as e:  # pydantic.ValidationError, and any error a validator raises
        return str(e)
    return None


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: fhir_validate.py DIR")
    directory = Path(argv[1])
    if not directory.is_dir():
        print(f"error: {directory} is not a directory: no FHIR responses were captured", file=sys.stderr)
        return 1
    files = sorted(p for p in directory.iterdir() if p.suffix == ".json")
    if not files:
        print(
            f"error: no FHIR responses were captured in {directory}: "
            "the tests did not write them (is TW_FHIR_CAPTURE_DIR passed to the tests?)",
            file=sys.stderr,
        )
        return 1
    failed = 0
    by_type = {}
    for path in files:
        try:
            captured = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            failed += 1
            print(f"FAIL {path.name}: not a readable capture: {e}", file=sys.stderr)
            continue
        if not isinstance(captured, dict) or "resource" not in captured:
            failed += 1
            print(f"FAIL {path.name}: not a capture (no \"resource\")", file=sys.stderr)
            continue
        request = captured.get("request", "?")
        resource = captured["resource"]
        error = validate(resource)
        if error is not None:
            failed += 1
            print(f"FAIL {path.name} (response to {request}):\n  " + error.replace("\n", "\n  "), file=sys.stderr)
            continue
        kind = resource["resourceType"]
        by_type[kind] = by_type.get(kind, 0) + 1
    summary = ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))
    if failed:
        print(
            f"error: {failed} of {len(files)} captured FHIR responses are not valid FHIR R4 (R4B models)",
            file=sys.stderr,
        )
        return 1
    print(f"{len(files)} captured FHIR responses are valid FHIR R4 (fhir.resources R4B models): {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
