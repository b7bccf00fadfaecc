"""The committed editor schema (docs/schema/manifest-v1.json), checked by an independent
Draft-7 validator (python-jsonschema, as editors use): it accepts every valid manifest in
the repository and rejects the structural cases of the invalid corpus, so an editor and
`ecsd validate` agree. Run by scripts/test with the emulator's venv (which has jsonschema
and PyYAML).
"""
import json
import pathlib
import sys

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs/schema/manifest-v1.json").read_text())
jsonschema.Draft7Validator.check_schema(SCHEMA)
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)

# Corpus cases a schema can see. (PyYAML reads YAML 1.1, where `yes` is a boolean, so the
# YAML-1.2-specific cases are left to ecsd's own tests; cross-object rules are not
# expressible in a schema.)
STRUCTURAL = [
    "type-port-quoted", "type-desired-count-word", "type-subnets-not-a-list",
    "type-environment-number", "type-containers-string", "unknown-field-helthcheck",
    "unknown-field-port-mapping", "unknown-field-top-level", "unknown-field-no-suggestion",
    "missing-vpc-id", "missing-container-image", "missing-metadata", "wrong-api-version",
    "unknown-kind", "enum-protocol", "enum-metric-case", "enum-strategy",
    "range-health-interval", "range-healthy-threshold", "range-deregistration-delay",
    "range-listener-priority", "range-negative-desired-count", "analysis-key-typo",
]


def documents(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


passed, failed = 0, []
valid_files = sorted((ROOT / "manifests").rglob("*.yaml")) + sorted((ROOT / "tests/corpus/valid").glob("*.yaml"))
for path in valid_files:
    for doc in documents(path):
        errors = [e.message for e in VALIDATOR.iter_errors(doc)]
        if errors:
            failed.append(f"{path}: schema rejects a valid manifest: {errors}")
        else:
            passed += 1
for name in STRUCTURAL:
    path = ROOT / "tests/corpus/invalid" / f"{name}.yaml"
    if any(list(VALIDATOR.iter_errors(doc)) for doc in documents(path)):
        passed += 1
    else:
        failed.append(f"{path}: schema accepts a manifest ecsd rejects")
for f in failed:
    print(f, file=sys.stderr)
print(f"schema: {passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
