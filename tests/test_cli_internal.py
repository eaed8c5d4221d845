"""A bug in matcalc is reported as one: its own message and exit code, never as a user's mistake."""

from __future__ import annotations

import matcalc
from matcalc import cli
from matcalc.errors import InternalError, MatcalcError


def test_internal_error_is_a_matcalc_error():
    assert issubclass(InternalError, MatcalcError)


def test_cli_reports_an_internal_error_as_a_bug(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise InternalError("the VJP of mystery gave a 2×3 cotangent for a 3×2 argument")

    monkeypatch.setattr(matcalc.diff, "backward", broken)
    code = cli.main(["grad", "L = sum(W @ X)", "--shape", "W=m,n", "--shape", "X=n,B", "--wrt",
                     "W"])
    err = capsys.readouterr().err
    assert code == cli.INTERNAL_ERROR == 3
    assert err.startswith("internal error: the VJP of mystery")
    assert "bug in matcalc" in err and "report" in err
    assert "Traceback" not in err


def test_a_user_mistake_is_still_exit_2(capsys):
    code = cli.main(["grad", "L = sum(W @ W)", "--shape", "W=m,n", "--wrt", "W"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "cannot multiply" in err
