"""The parser worker pool with a fake parser module: an abort or a hang costs one job, not the run."""

from __future__ import annotations

from trtplug.check.pool import PoolInfo, run_jobs

FAKE = "tests.fake_trt_parser"


def test_answers_come_back_in_order_from_one_child() -> None:
    info = PoolInfo()
    results = run_jobs([(b"fine", None), (b"REJECT_ME", None), (b"fine", None)], FAKE, info=info)
    assert [bool(r.errors) for r in results] == [False, True, False]
    assert results[1].errors[0]["desc"] == "fake rejection" and results[1].errors[0]["code"] == "UNSUPPORTED_NODE"
    assert info.children == 1 and info.backend == FAKE and info.version == "0.fake"


def test_an_abort_is_reported_on_its_job_and_the_rest_runs_in_a_new_child() -> None:
    info = PoolInfo()
    jobs = [(b"fine", None), (b"ABORT_ME", None), (b"REJECT_ME", None), (b"ABORT_ME", None), (b"fine", None)]
    results = run_jobs(jobs, FAKE, info=info)
    assert results[0].aborted is None and not results[0].errors
    assert "SIGABRT" in results[1].aborted and "terminate called" in results[1].aborted
    assert results[2].errors and results[2].aborted is None
    assert "SIGABRT" in results[3].aborted
    assert results[4].aborted is None and not results[4].errors
    assert info.children == 3


def test_a_hung_parser_is_killed_after_the_timeout() -> None:
    results = run_jobs([(b"HANG_ME", None), (b"fine", None)], FAKE, timeout_s=3)
    assert "hung" in results[0].aborted
    assert results[1].aborted is None


def test_progress_counts_every_job() -> None:
    seen = []
    run_jobs([(b"fine", None), (b"ABORT_ME", None), (b"fine", None)], FAKE, progress=seen.append)
    assert sum(seen) == 3
