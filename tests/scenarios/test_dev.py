"""`faros dev` on a machine with no kubeconfig: its own control plane, the example, Faros.

Started as a user would (a subprocess, a temporary HOME, no KUBECONFIG); the control plane
binaries come from the project's cache (FAROS_CONTROLPLANE_CACHE) so nothing is rebuilt.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from faros.kube import client
from faros.testing import binaries, controlplane
from tests.harness.shape import FAROS
from tests.harness.wait import eventually

CM = "/api/v1/namespaces/faros-example/configmaps/web-settings"
TRACK = "/apis/faros.pusher.com/v1alpha1/clustergittracks/example"


def test_faros_dev_runs_the_example_reverts_drift_takes_commits_and_stops_clean(tmp_path):
    home, state = tmp_path / "home", tmp_path / "state"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
    env.update(HOME=str(home), FAROS_CONTROLPLANE_CACHE=str(binaries.cache_dir().parent))
    log = (tmp_path / "dev.out").open("w+b")
    command = [FAROS, "dev", f"--dir={state}", "--sync-period=20s"]
    dev = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                           start_new_session=True)  # fmt: skip
    try:
        kubeconfig = eventually(lambda: _exported(tmp_path / "dev.out", dev), timeout=240,
                                interval=1)  # fmt: skip
        with client.Kube.connect(kubeconfig) as kube:
            eventually(lambda: _in_sync(kube), timeout=120, interval=1)
            kube.request("PATCH", CM, body={"data": {"colour": "red"}},
                         content_type=client.MERGE_PATCH)  # fmt: skip
            eventually(lambda: _colour(kube, "blue"), timeout=60)

            repo = state / "repo"
            text = (repo / "configmap.yaml").read_text().replace("blue", "green")
            (repo / "configmap.yaml").write_text(text)
            subprocess.run(["git", "commit", "-qam", "green"], cwd=repo, env={
                **env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"},
                check=True, timeout=30)  # fmt: skip
            synced = subprocess.run(
                [FAROS, "sync", "example", "--wait", "--timeout=60", f"--kubeconfig={kubeconfig}"],
                capture_output=True, text=True, timeout=90, check=False,
            )  # fmt: skip
            assert synced.returncode == 0, synced.stdout + synced.stderr
            _colour(kube, "green")
        pids = json.loads((state / "controlplane" / "state.json").read_text())["pids"]
        dev.send_signal(signal.SIGINT)
        assert dev.wait(timeout=90) == 0
        time.sleep(1)
        alive = [name for name, pid in pids.items() if _alive(pid)]
        assert not alive, f"left running: {alive}"
        assert not _processes_under(state), "a faros run or control-plane process is left"
        assert f"the state was in {state}" in _output(tmp_path / "dev.out")
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait(timeout=30)
        log.close()
        state_file = state / "controlplane" / "state.json"
        if state_file.exists():
            controlplane.stop_pids(json.loads(state_file.read_text())["pids"])


def _output(path: Path) -> str:
    return path.read_text(errors="replace")


def _exported(path: Path, dev: subprocess.Popen[bytes]) -> Path:
    assert dev.poll() is None, _output(path)
    for line in _output(path).splitlines():
        if line.strip().startswith("export KUBECONFIG="):
            return Path(line.strip().split("=", 1)[1])
    raise AssertionError("faros dev has not printed the KUBECONFIG yet")


def _in_sync(kube: client.Kube) -> None:
    status = kube.request("GET", TRACK).get("status") or {}
    assert status.get("objectsApplied") == 4, status
    assert status.get("objectsInSync") == 4, status


def _colour(kube: client.Kube, want: str) -> None:
    assert kube.request("GET", CM)["data"]["colour"] == want


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def _processes_under(state: Path) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(state) in command:
                found.append(command)
    return found
