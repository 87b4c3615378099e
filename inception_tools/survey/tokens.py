"""Each participant's secret: the token their survey URL carries.

A name alone proves nothing (anyone who knows it could read that participant's
locked answers or answer as them), so every participant gets an unguessable
``secrets.token_urlsafe(24)`` (192 bits). The tokens are kept beside the answers
CSV in ``answers.tokens.json`` (readable by the owner only), so a restarted
server prints the same URLs and a participant's open page keeps working.
"""

import json
import os
import secrets

from inception_tools.atomic import atomic_open
from inception_tools.errors import UserError
from inception_tools.layout import tokens_json


def participant_tokens(answers_path, names):
    """``{name: token}`` for ``names``: the stored tokens, and new ones written for names without one."""
    path = tokens_json(answers_path)
    stored = {}
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as f:
                stored = json.load(f)
        except (OSError, ValueError) as e:
            raise UserError(f"{path} is not valid JSON: {e}") from None
        if not isinstance(stored, dict) or not all(isinstance(v, str) and len(v) >= 16 for v in stored.values()):
            raise UserError(f"{path} is not a JSON object of participant tokens; delete it to make new ones")
    missing = [name for name in names if name not in stored]
    if missing:
        stored.update({name: secrets.token_urlsafe(24) for name in missing})
        with atomic_open(path, "w", encoding="utf-8") as f:
            json.dump(stored, f, indent=1)
        os.chmod(path, 0o600)
    return {name: stored[name] for name in names}
