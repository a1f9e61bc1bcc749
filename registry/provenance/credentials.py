"""C2PA content credentials (through c2pa-python): whether a manifest is present and valid, who
signed it, the claim generator, the actions with their IPTC digital source types and software
agents, and the ingredients."""

from __future__ import annotations

import io
import json

import c2pa

from .readers import AI_SOURCE_TYPES, IPTC_PREFIX, Finding, Provenance, _clip, _generator_in

#: Validation codes that only say the signer is not on a trust list (any self-issued or private
#: certificate): the manifest itself is intact.
_TRUST_ONLY = {"signingCredential.untrusted"}


def read_credentials(data: bytes, media_type: str, found: Provenance) -> None:
    """Add what the file's C2PA manifest store says to ``found``; never raises."""
    try:
        with c2pa.Reader(media_type, io.BytesIO(data)) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        if "ManifestNotFound" in type(exc).__name__ or "not found" in str(exc).lower():
            return
        found.unreadable.append(f"C2PA: {type(exc).__name__}: {_clip(exc)[:200]}")
        return
    except (ValueError, OSError) as exc:
        found.unreadable.append(f"C2PA: {type(exc).__name__}: {_clip(exc)[:200]}")
        return
    manifest = store.get("manifests", {}).get(store.get("active_manifest") or "", {})
    problems = [s.get("code", "") for s in store.get("validation_status", []) or []]
    failures = [p for p in problems if p not in _TRUST_ONLY]
    signature = manifest.get("signature_info", {}) or {}
    generators = [g.get("name", "") for g in manifest.get("claim_generator_info", []) or []]
    if manifest.get("claim_generator"):
        generators.append(manifest["claim_generator"])
    actions = []
    for assertion in manifest.get("assertions", []) or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data", {}) or {}).get("actions", []) or []:
            agent = action.get("softwareAgent", "")
            if isinstance(agent, dict):
                agent = agent.get("name", "")
            source = str(action.get("digitalSourceType", "")).removeprefix(IPTC_PREFIX)
            actions.append(
                {
                    "action": action.get("action", ""),
                    "digital_source_type": source,
                    "software_agent": _clip(agent),
                }
            )
            generator = _generator_in(str(agent)) if agent else None
            if generator:
                found.generators.append(generator)
    ingredients = [
        {"title": _clip(i.get("title", "")), "relationship": i.get("relationship", "")}
        for i in manifest.get("ingredients", []) or []
    ]
    found.c2pa = {
        "present": True,
        "valid": not failures,
        "trusted": not problems,
        "problems": problems,
        "signer": _clip(signature.get("common_name") or signature.get("issuer") or ""),
        "issuer": _clip(signature.get("issuer", "")),
        "claim_generator": ", ".join(g for g in generators if g),
        "actions": actions,
        "ingredients": ingredients,
    }
    for a in actions:
        found.findings.append(
            Finding(
                "C2PA",
                a["action"],
                ", ".join(x for x in (a["digital_source_type"], a["software_agent"]) if x),
                a["digital_source_type"] in AI_SOURCE_TYPES,
            )
        )
