"""The local Neo4j server: fetch Neo4j Community with Maven, compile the launcher, start it, wait for Bolt, stop it.

Used by the run command (data under `var/neo4j`) and by the tests (a throw-away folder and a free port). Nothing here
is used when `NEO4J_URI` points at a real deployment.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from graph.processes import PrerequisiteMissing, ServerFailed, port_is_open, spawn, terminate

LAUNCHER_DIR = Path(__file__).resolve().parent / "neo4j"
POM = LAUNCHER_DIR / "pom.xml"
LAUNCHER_SOURCE = LAUNCHER_DIR / "LocalNeo4j.java"
MIN_JAVA = 17

__all__ = ["LocalNeo4j", "PrerequisiteMissing", "ServerFailed"]


@dataclass
class LocalNeo4j:
    """One embedded Neo4j Community server with Bolt on 127.0.0.1:`port` and its files in `home`."""

    home: Path
    port: int
    dist_dir: Path
    heap: str = "512m"
    pagecache: str = "256m"
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    process: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.home / "launcher.log"

    def java(self) -> str:
        """The `java` to run, after checking it is there and new enough; raises PrerequisiteMissing otherwise."""
        java = shutil.which("java", path=self.environ.get("PATH", ""))
        if java is None:
            raise PrerequisiteMissing(
                f"The local Neo4j needs Java {MIN_JAVA} or newer, and no `java` is on PATH: install a JDK "
                "(on Debian: apt-get install openjdk-17-jdk-headless), or set NEO4J_URI to use a Neo4j you already run."
            )
        out = subprocess.run([java, "-version"], capture_output=True, text=True, env=self.environ, check=False)
        match = re.search(r'version "(\d+)', out.stderr + out.stdout)
        if match is None or int(match.group(1)) < MIN_JAVA:
            found = match.group(1) if match else "an unknown version"
            raise PrerequisiteMissing(
                f"The local Neo4j needs Java {MIN_JAVA} or newer, but {java} is Java {found}: "
                "install openjdk-17-jdk-headless (Neo4j 5.26 runs on Java 17 and 21)."
            )
        return java

    def build(self) -> None:
        """Fetch the Neo4j jars and compile the launcher into `dist_dir`, unless the pom and source are unchanged."""
        java = self.java()
        digest = hashlib.sha256(POM.read_bytes() + LAUNCHER_SOURCE.read_bytes()).hexdigest()
        self.dist_dir.mkdir(parents=True, exist_ok=True)
        stamp = self.dist_dir / "built.sha256"
        with open(self.dist_dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the run command and a test session may build at once
            if stamp.exists() and stamp.read_text() == digest:
                return
            path = self.environ.get("PATH", "")
            mvn = shutil.which("mvn", path=path)
            javac = shutil.which("javac", path=path) or str(Path(java).with_name("javac"))
            if mvn is None:
                raise PrerequisiteMissing(
                    "Fetching Neo4j for the local server needs Maven, and no `mvn` is on PATH: install it "
                    "(on Debian: apt-get install maven), or set NEO4J_URI to use a Neo4j you already run."
                )
            if not Path(javac).exists():
                raise PrerequisiteMissing(
                    "Compiling the Neo4j launcher needs a JDK (javac), not only a JRE: "
                    "install openjdk-17-jdk-headless."
                )
            lib, classes = self.dist_dir / "lib", self.dist_dir / "classes"
            for d in (lib, classes):
                shutil.rmtree(d, ignore_errors=True)
            _run([mvn, "-B", "-q", "-f", str(POM), "dependency:copy-dependencies", "-DincludeScope=runtime",
                  f"-DoutputDirectory={lib}"], "fetching Neo4j with Maven", self.environ)
            _run([javac, "-nowarn", "-d", str(classes), "-cp", f"{lib}/*", str(LAUNCHER_SOURCE)],
                 "compiling the Neo4j launcher", self.environ)
            stamp.write_text(digest)

    def start(self, timeout: float = 120.0) -> str:
        """Start the server and return its Bolt URI once it accepts connections."""
        if self.process is not None and self.process.poll() is None:
            return self.uri
        self.build()
        if port_is_open("127.0.0.1", self.port):
            raise ServerFailed(f"Port {self.port} is already in use, so the local Neo4j cannot listen there: "
                               "stop whatever holds it or choose another with LOCAL_NEO4J_PORT.")
        self.home.mkdir(parents=True, exist_ok=True)
        cmd = [
            self.java(), f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
            "-cp", f"{self.dist_dir / 'lib'}/*{os.pathsep}{self.dist_dir / 'classes'}", "LocalNeo4j",
            "--home", str(self.home), "--port", str(self.port), "--pagecache", self.pagecache,
            "--parent-pid", str(os.getpid()),
        ]
        self.log_file.write_text("")
        self.process = spawn(cmd, self.log_file, self.environ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_file.read_text(errors="replace")
            if "READY " in text and port_is_open("127.0.0.1", self.port):
                return self.uri
            failed = re.search(r"^FAILED (.*)$", text, re.MULTILINE)
            if failed or self.process.poll() is not None:
                self.process.wait()
                reason = failed.group(1) if failed else f"exited with status {self.process.returncode}"
                self.process = None
                raise ServerFailed(f"The local Neo4j did not start: {reason} (see {self.log_file})")
            time.sleep(0.1)
        self.stop()
        raise ServerFailed(f"The local Neo4j was not ready within {timeout:.0f} s (see {self.log_file})")

    def stop(self, timeout: float = 30.0) -> None:
        """Shut down cleanly (SIGTERM: the launcher checkpoints and closes); kill only if that takes too long."""
        if self.process is not None:
            terminate(self.process, timeout)
            self.process = None


def _run(cmd: list[str], what: str, environ: dict[str, str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, env=environ, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ServerFailed(f"{what} failed (exit {done.returncode}):\n{tail}")


def main(argv: list[str]) -> int:
    """`python -m graph.local build`: fetch and compile ahead of time (the Makefile's deps step)."""
    from profiles.config import load

    settings = load()
    server = LocalNeo4j(home=settings.var_dir / "neo4j", port=0, dist_dir=settings.neo4j_dist_dir)
    if argv[1:] != ["build"]:
        print("usage: python -m graph.local build", file=sys.stderr)
        return 2
    try:
        started = time.monotonic()
        server.build()
        print(f"Neo4j launcher ready in {server.dist_dir} ({time.monotonic() - started:.1f} s)")
    except (PrerequisiteMissing, ServerFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
