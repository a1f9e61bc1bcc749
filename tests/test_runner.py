"""The runner: the children it forks for searches and checks inherit warm match indexes."""

from __future__ import annotations

from registry.services import checking, intake, matching
from tests.factories import make_user, submit_text

VERSE = "The quick brown fox jumps over the lazy dog by the river bank.\n"


def test_the_web_process_keeps_its_indexes_warm_for_the_children(app, session, store):
    """A child's catch-up is lost with it: the process that forks catches up first, so each
    child starts from an index that misses only what was filed since."""
    ext = app.extensions["registry"]
    submit_text(session, store, make_user(session), VERSE * 3)
    checking.run_pending(session=session, store=store, matcher=matching.Matcher(), policy=None)
    assert ext.matcher.watermark == 0
    with app.app_context():
        found = ext.runner.reverse_search(intake.DepositUpload(pasted_text=VERSE))
    assert found.checked_against == 1 and len(found.matches) == 1
    assert ext.matcher.watermark > 0 and len(ext.matcher.texts) == 1
