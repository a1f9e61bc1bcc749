"""The match table: one row per match, written with the report, and the query over it."""

from registry.models import FilingMatch
from registry.services import matches, matching
from registry.similarity import Band
from tests.factories import ESSAY, count, make_user, submit_text


def test_matches_against_a_creators_works_by_band(session, store):
    a, b, c = (make_user(session, email=f"{n}@example.org") for n in "abc")
    matcher = matching.Matcher()
    essay = submit_text(session, store, a, ESSAY, title="Essay", matcher=matcher)
    poem = submit_text(session, store, a, "A poem of its own, unlike the essay.\n", matcher=matcher)
    whole = submit_text(session, store, b, ESSAY + "\nSigned, B.\n", title="All", matcher=matcher)
    excerpt = submit_text(
        session, store, c, "Some words of mine, then: " + ESSAY[:120], title="Bit", matcher=matcher
    )
    rows = count(session, FilingMatch)
    assert rows == sum(
        matching.get_report(session, r).match_count for r in (essay, poem, whole, excerpt)
    )
    found = matches.matches_against(session, owner=a)
    assert {m.filing.number for m in found} >= {whole.number}
    assert all(m.earlier.owner_id == a.id and m.filing.owner_id != a.id for m in found)
    assert found[0].filing.number == whole.number and found[0].band is Band.STRONG
    assert [m.band.rank for m in found] == sorted((m.band.rank for m in found), reverse=True)
    strong = matches.matches_against(session, owner=a, min_band=Band.STRONG)
    assert strong and all(m.band is Band.STRONG for m in strong)
    assert matches.matches_against(session, registration_ids=[poem.id]) == []
    # by the filing whose report found them: the later filings match the earlier works only
    by_whole = matches.matches_against(session, filing_ids=[whole.id])
    assert {m.earlier.number for m in by_whole} == {essay.number}
    # B's copy is itself copied by C's later excerpt (which holds text B's filing holds too)
    assert {m.filing.number for m in matches.matches_against(session, owner=b)} == {excerpt.number}
    assert matches.matches_against(session, owner=c) == []  # nothing was filed after C
