"""Turn a Declaration into the fields a browser posts from the filing form."""

from registry.domain.declaration import Declaration
from tests.conftest import csrf_token


def form_fields(decl: Declaration) -> dict:
    d: dict = {
        "title": decl.title,
        "alternative_titles": "\n".join(decl.alternative_titles),
        "work_category": decl.work_category or "",
        "completion_date": decl.completion_date.isoformat() if decl.completion_date else "",
        "publication_date": decl.publication_date.isoformat() if decl.publication_date else "",
        "publication_nation": decl.publication_nation,
        "claimant_name": decl.claimant_name,
        "claimant_address": decl.claimant_address,
        "rights_obtained": decl.rights_obtained or "",
        "transfer_statement": decl.transfer_statement,
        "rights_held_detail": decl.rights_held_detail,
        "ai_material": decl.ai_material,
        "new_material": decl.new_material,
        "training_terms": decl.training_terms,
    }
    for name in (
        "publication_status",
        "claimant_kind",
        "rights_held",
        "digital_source_type",
        "training_use",
    ):
        if getattr(decl, name):
            d[name] = getattr(decl, name)
    for i, a in enumerate(decl.authors):
        d.update(
            {
                f"authors-{i}-name": a.name,
                f"authors-{i}-signing": a.signing or "",
                f"authors-{i}-pseudonym": a.pseudonym,
                f"authors-{i}-citizenship": a.citizenship,
                f"authors-{i}-contribution": a.contribution,
            }
        )
    for i, t in enumerate(decl.ai_tools):
        d.update(
            {
                f"ai_tools-{i}-name": t.name,
                f"ai_tools-{i}-version": t.version,
                f"ai_tools-{i}-provider": t.provider,
                f"ai_tools-{i}-usage": t.usage,
            }
        )
    for i, s in enumerate(decl.sources):
        d.update(
            {
                f"sources-{i}-description": s.description,
                f"sources-{i}-origin": s.origin,
                f"sources-{i}-licence": s.licence,
            }
        )
    for c in decl.contributions:
        d[f"contributions-{c.category}-selected"] = "y"
        d[f"contributions-{c.category}-description"] = c.description
    if decl.attested:
        d["attested"] = "y"
    return d


def post_filing(
    client, decl: Declaration, *, url="/filings/new", action="submit", file=None, text=None
):
    data = form_fields(decl)
    data["action"] = action
    data["csrf_token"] = csrf_token(client)
    if file is not None:
        data["deposit_file"] = file
    if text is not None:
        data["deposit_text"] = text
    return client.post(url, data=data, content_type="multipart/form-data")
