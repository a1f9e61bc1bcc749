"""A creator signs up, files an image, and the public lookup finds it: in a real browser."""

import os
from pathlib import Path

import pytest

from tests.factories import image_bytes

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("REGISTRY_SCREENSHOTS", "test-artifacts/screenshots"))


def shot(page, name, backend):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{backend}-{name}.png"), full_page=True)


def test_sign_up_file_an_image_and_look_it_up(live_server, browser, backend, tmp_path):
    image = tmp_path / "harbour.jpg"
    image.write_bytes(image_bytes("JPEG", (640, 420), (30, 90, 140)))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The form answers 422 when it has problems; Chromium logs that, and it is intended.
    page.on(
        "console",
        lambda msg: (
            msg.type == "error" and "status of 422" not in msg.text and errors.append(msg.text)
        ),
    )

    page.goto(live_server + "/")
    shot(page, "01-home", backend)
    page.get_by_role("link", name="Create an account", exact=True).click()
    page.get_by_label("Your name").fill("Ana Costa")
    page.get_by_label("Email address").fill("ana@example.org")
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat the password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="My filings").wait_for()
    shot(page, "02-dashboard-empty", backend)

    page.get_by_role("link", name="Register your first work").click()
    page.get_by_label("Title", exact=True).fill("Harbour at Dawn")
    page.get_by_label("Kind of work").select_option("visual_art")
    page.get_by_label("Date completed").fill("2026-03-14")
    page.get_by_label("Unpublished").check()
    page.locator("#authors-0-name").fill("Ana Costa")
    page.locator("#authors-0-signing").select_option("real_name")
    page.locator("#authors-0-contribution").fill("Painting over AI sketches")
    # Adding a row is done in the page by the script, without a round trip.
    page.get_by_role("button", name="+ Add another author").click()
    assert page.locator("#authors-1-name").count() == 1
    page.get_by_label("Claimant (who holds the copyright)").fill("Ana Costa")
    page.get_by_label("A person (natural person)").check()
    page.get_by_label("Claimant's address").fill("Rua das Flores 21, Porto")
    page.get_by_label("How the claimant obtained the rights").select_option("original")
    page.get_by_label("All rights (全部)").check()
    page.get_by_label("A composite that includes AI-generated parts").check()
    page.locator("#ai_tools-0-name").fill("Stable Diffusion XL")
    page.locator("#ai_tools-0-provider").fill("Stability AI")
    page.get_by_label("What the AI generated (excluded from the claim)").fill(
        "Rough sketches of the sky"
    )
    page.locator("#contributions-modification-selected").check()
    page.locator("#contributions-modification-description").fill("Repainted the sky by hand.")
    page.get_by_label("New material claimed").fill("Painting")
    page.get_by_label("Not allowed").check()
    page.get_by_label("Upload the work (image or .txt file)").set_input_files(str(image))

    # Submitting without the attestation shows the problem and keeps the typed values.
    page.get_by_role("button", name="Submit registration").click()
    page.get_by_role("heading", name="Some things need attention").wait_for()
    shot(page, "03-form-problem", backend)
    assert page.get_by_label("Title", exact=True).input_value() == "Harbour at Dawn"
    page.get_by_label("Upload the work (image or .txt file)").set_input_files(str(image))
    page.locator("#attested").check()
    page.get_by_role("button", name="Submit registration").click()

    page.get_by_role("heading", name="Your registration number is").wait_for()
    shot(page, "04-receipt", backend)
    number = page.locator("dd.number").inner_text().strip()
    assert number.startswith("AIR-") and len(number) == len("AIR-2026-000001")

    page.get_by_role("link", name="Follow this filing").click()
    page.get_by_role("heading", name="Timeline").wait_for()
    # The thumbnail is made on first request: wait until the browser has decoded it.
    page.wait_for_function(
        "() => { const i = document.querySelector('img.thumb');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    shot(page, "05-record", backend)
    check = page.locator("section[aria-labelledby=sec-originality]")
    assert "No registered work matches this one" in check.inner_text()

    public = browser.new_page(viewport={"width": 390, "height": 844})  # a phone, signed out
    public.goto(live_server + "/")
    public.get_by_label("Registration number").fill(number.lower())
    public.get_by_role("button", name="Look up").click()
    public.get_by_role("heading", name="Harbour at Dawn").wait_for()
    assert number in public.content() and "Rua das Flores" not in public.content()
    shot(public, "06-public-record-phone", backend)
    public.goto(live_server + "/search?q=harbour")
    assert public.get_by_role("link", name="Harbour at Dawn").count() == 1
    shot(public, "07-search-phone", backend)
    assert errors == []
