"""A sync requested by hand is pending until the status says it was served."""

from __future__ import annotations

from faros.core import manual


def gittrack(requested: str | None, handled: str | None) -> dict[str, object]:
    annotations = {} if requested is None else {"faros.pusher.com/requested-at": requested}
    status = {} if handled is None else {"lastHandledRequestedAt": handled}
    return {"metadata": {"annotations": annotations}, "status": status}


def test_a_new_request_is_pending_until_handled():
    assert manual.pending(gittrack("t1", None)) == "t1"
    assert manual.pending(gittrack("t2", "t1")) == "t2"
    assert manual.pending(gittrack("t2", "t2")) == ""
    assert manual.pending(gittrack(None, "t1")) == ""
    assert manual.requested({"metadata": {"annotations": {manual.REQUESTED_ANNOTATION: 5}}}) == ""
