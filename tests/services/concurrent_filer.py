"""Run as a separate process by the concurrency tests: submit N filings and print their numbers."""

import json
import sys
from pathlib import Path

from registry.db import make_engine, new_session
from registry.domain.transparency import load_private_key
from registry.models import User
from registry.services import filing, intake, transparency
from registry.storage import DepositStore
from tests.factories import LIMITS, text_declaration


def main(url: str, deposit_dir: str, user_id: int, count: int, tag: str, key: str) -> None:
    engine = make_engine(url)
    log = transparency.TransparencyLog(load_private_key(Path(key).read_bytes()))
    transparency.bind_signer(engine, log)
    store = DepositStore(deposit_dir)
    numbers = []
    with new_session(engine) as session:
        user = session.get(User, user_id)
        for i in range(count):
            reg = filing.submit(
                session=session,
                store=store,
                limits=LIMITS,
                owner=user,
                declaration=text_declaration(title=f"{tag} {i}"),
                upload=intake.DepositUpload(pasted_text=f"Poem {tag} number {i}\n"),
            )
            numbers.append(reg.number)
    engine.dispose()
    print(json.dumps(numbers))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
