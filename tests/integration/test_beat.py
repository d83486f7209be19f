"""`faros beat` sends each GitTrack's sync every period; entries follow the GitTracks."""

from __future__ import annotations

import datetime
import os
import secrets
import sys
import threading
from pathlib import Path

from celery import Celery

from faros.beat import entries
from faros.core import identity
from tests.harness import gitrepos, processes
from tests.harness.git_servers import Transport
from tests.harness.wait import eventually
from tests.harness.workers import Worker

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: default}\n"
PERIOD = datetime.timedelta(seconds=2)


def test_entries_follow_the_gittracks(beat_app):
    a = identity.gittrack_key(namespace="team", name="a")
    b = identity.gittrack_key(namespace="", name="b")

    entries.reconcile(beat_app, [a, b], period=PERIOD)
    assert entries.names(beat_app) == {"gittrack:team/a", "clustergittrack:b"}

    entries.reconcile(beat_app, [b], period=PERIOD)
    assert entries.names(beat_app) == {"clustergittrack:b"}

    entries.delete(beat_app, b)
    assert entries.names(beat_app) == set()


def test_a_replica_deletes_an_entry_it_does_not_know_only_at_its_second_look(beat_app):
    """Two watcher replicas: one writes the entry of a new GitTrack the other has not seen
    yet. The other's reconcile must not delete it at once (its view may be behind)."""
    fresh = identity.gittrack_key(namespace="team", name="new")
    entries.upsert(beat_app, fresh, period=PERIOD)
    behind = entries.RedBeatSchedule(beat_app)

    behind.reconcile([], period=PERIOD)
    assert entries.names(beat_app) == {"gittrack:team/new"}, "kept: maybe just not seen yet"

    behind.reconcile([], period=PERIOD)
    assert entries.names(beat_app) == set(), "still an orphan a round later: deleted"


def test_beat_syncs_every_period(tracks, beat_app, worker_settings, git_root, git_servers,
                                 tmp_path: Path):  # fmt: skip
    repo = gitrepos.make_repo(git_root, f"beat-{secrets.token_hex(3)}",
                              [{"a.yaml": CONFIGMAP % "beat-a"}])  # fmt: skip
    key = tracks.create(reference="master", repository=git_servers.url(repo, Transport.FILE))
    entries.upsert(beat_app, key, period=PERIOD)
    env = {**os.environ,
           "FAROS_BEAT_KEY_PREFIX": beat_app.conf.redbeat_key_prefix}  # fmt: skip
    command = [str(Path(sys.executable).with_name("faros")), "beat",
               f"--broker-url={worker_settings.broker_url}"]  # fmt: skip
    beat = processes.spawn(command, log=tmp_path / "beat.log", env=env)
    try:
        with Worker(worker_settings, tmp_path / "worker"):

            def synced_at(commit: str | None) -> None:
                assert beat.poll() is None, processes.tail(tmp_path / "beat.log", 30)
                assert tracks.status(key).get("revision") == commit

            eventually(lambda: synced_at(repo.head()), timeout=60)
            repo.commit({"b.yaml": CONFIGMAP % "beat-b"})
            eventually(lambda: synced_at(repo.head()), timeout=30)
    finally:
        processes.stop(beat, timeout=20)
        entries.delete(beat_app, key)
    assert tracks.status(key)["objectsApplied"] == 2


def test_the_schedule_is_written_from_many_threads_at_once(redis_url):
    """The watch threads' first writes come together (the first event of each kind)."""
    failures: list[BaseException] = []
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave the threads as much as the interpreter can
    try:
        for attempt in range(20):
            app = Celery("faros-test")
            app.config_from_object("celeryconfig")
            app.conf.update(broker_url=redis_url, redbeat_redis_url=redis_url,
                            redbeat_key_prefix=f"faros:beat:{secrets.token_hex(3)}:")  # fmt: skip
            schedule = entries.RedBeatSchedule(app)
            start = threading.Barrier(8)

            def write(
                n: int, schedule: entries.RedBeatSchedule = schedule,
                start: threading.Barrier = start,
            ) -> None:  # fmt: skip
                start.wait()
                try:
                    schedule.upsert(identity.gittrack_key(namespace="t", name=f"g{n}"),
                                    period=PERIOD)  # fmt: skip
                except BaseException as error:  # collected, asserted below
                    failures.append(error)

            threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert not failures, (attempt, failures)
            assert len(entries.names(app)) == 8
    finally:
        sys.setswitchinterval(previous)
