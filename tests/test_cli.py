from sqlmodel import func, select

from registry.models import Registration, User


def test_demo_fills_an_empty_registry_once(runner, session, client):
    result = runner.invoke(args=["registry", "demo"])
    assert result.exit_code == 0, result.output
    assert "Filed AIR-" in result.output and "examiner@demo.example" in result.output
    count = session.exec(select(func.count()).select_from(Registration)).one()
    assert count == 5
    assert session.exec(select(User).where(User.role == "examiner")).one()
    again = runner.invoke(args=["registry", "demo"])
    assert "added only to an empty one" in again.output
    assert session.exec(select(func.count()).select_from(Registration)).one() == 5
    html = client.get("/search").get_data(as_text=True)
    assert "Harbour at Dawn" in html and "5 filings" in html


def test_migrate_is_safe_to_repeat(runner):
    result = runner.invoke(args=["registry", "migrate"])
    assert result.exit_code == 0 and "revision 0001" in result.output
