#!/usr/bin/env python3
"""Bundles the strict Kubernetes JSON schemas of the PyPI package kubernetes-validate (Apache-2.0)
into schemas/kubernetes/v<MAJOR.MINOR>.json.gz, one file per version, for aether-chart to embed.

Each bundle is {"definitions": <_definitions.json>, "kinds": {"<apiVersion>/<Kind>": <schema>}},
with descriptions dropped (they do not take part in validation). Run it after
scripts/install-test-tools.sh has installed kubernetes-validate:

    .tools/venv/bin/python scripts/bundle-kubernetes-schemas.py 1.30 1.31 ...
"""
import gzip
import json
import pathlib
import sys

import kubernetes_validate

ROOT = pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
OUT = pathlib.Path(__file__).resolve().parent.parent / "schemas" / "kubernetes"


def strip(node):
    """Drops every description, recursively (inside `properties` a key may be named so)."""
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items()
                if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def bundle(version):
    folder = ROOT / f"v{version}.0-local-strict"
    definitions = strip(json.loads((folder / "_definitions.json").read_text()))
    kinds = {}
    for path in sorted(folder.glob("*.json")):
        if path.name in ("_definitions.json", "all.json"):
            continue
        schema = json.loads(path.read_text())
        props = schema.get("properties", {})
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        if "apiVersion" not in props or "kind" not in props or len(gvks) != 1:
            continue
        gvk = gvks[0]
        api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
        kinds[f"{api_version}/{gvk['kind']}"] = strip(schema)
    data = json.dumps({"definitions": definitions, "kinds": kinds}, sort_keys=True,
                      separators=(",", ":")).encode()
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"v{version}.json.gz"
    # mtime=0 and no file name: the same input always gives the same bytes.
    with open(target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9,
                                                  mtime=0, filename="") as out:
        out.write(data)
    print(f"{target.name}: {len(kinds)} kinds, {len(data)} bytes, {target.stat().st_size} compressed")


for version in sys.argv[1:]:
    bundle(version)
