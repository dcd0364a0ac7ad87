"""The lab as a user installs it: build the sdist and, from it, the wheel; install the wheel in a
fresh virtualenv; then, from a folder outside the checkout, use every tool and assert what each
prints. CI runs it (.ci/run); any failure is one line and exit 1.

    python tools/wheel_check.py [--constraints constraints/v3.txt] [--keep]

It prints what the wheel weighs (size, files) and how long `pitfall-lab list` takes from it.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
import zipfile
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
SAMPLE_ERROR = CHECKOUT / "tests/explain_cases/catalogue/27_uwsgi_ssl_syscall_eof.txt"
DOCTOR_SAMPLE = CHECKOUT / "tests/doctor_samples/gunicorn_deploy"
CATALOGUE = ["scenarios", "repros", "fixes", "tests", "constraints", "conftest.py",
             "pyproject.toml"]
# A user's own suite: a test that fails with the error S05's repro raises.
USER_SUITE = '''
def test_the_second_app_queries():
    raise RuntimeError("The current Flask app is not registered with this 'SQLAlchemy' "
                       "instance. Did you forget to call 'init_app', or did you create multiple "
                       "'SQLAlchemy' instances?")
'''


class Failed(Exception):
    pass


def run(args, cwd: Path, timeout: float = 600, expect: int | None = 0) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})
    out = result.stdout + result.stderr
    if expect is not None and result.returncode != expect:
        raise Failed(f"{' '.join(map(str, args[:3]))} ... exited {result.returncode}, "
                     f"not {expect}: {out.strip().splitlines()[-1:] or '(no output)'}")
    if "Traceback (most recent call last)" in out:
        raise Failed(f"{' '.join(map(str, args[:3]))} ... printed a traceback")
    return out


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)
    print(f"  ok: {what}")


def build(dist: Path) -> tuple[Path, Path]:
    run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", dist, CHECKOUT],
        cwd=CHECKOUT)
    (sdist,), (wheel,) = dist.glob("*.tar.gz"), dist.glob("*.whl")
    return sdist, wheel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--constraints", default=str(CHECKOUT / "constraints/v3.txt"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pitfall-lab-wheel-"))
    try:
        print("building the sdist, and the wheel from it")
        sdist, wheel = build(tmp / "dist")
        files = zipfile.ZipFile(wheel).namelist()
        tracked = subprocess.run(["git", "ls-files", *CATALOGUE], cwd=CHECKOUT, text=True,
                                 capture_output=True).stdout.split()
        if tracked:  # a checkout: the wheel's catalogue is exactly what git has
            shipped = {f.removeprefix("pitfall_lab/_lab/") for f in files
                       if f.startswith("pitfall_lab/_lab/")}
            odd = sorted(shipped ^ set(tracked))
            check(not odd, f"the wheel ships the {len(tracked)} files of the catalogue git has, "
                  f"no other{f' (differs in {odd[:3]})' if odd else ''}")
        print(f"  wheel {wheel.name}: {wheel.stat().st_size / 1024:.0f} KiB, {len(files)} files; "
              f"sdist {sdist.stat().st_size / 1024:.0f} KiB")
        print("installing the wheel in a fresh virtualenv")
        venv.create(tmp / "venv", with_pip=True)
        python, lab = tmp / "venv/bin/python", tmp / "venv/bin/pitfall-lab"
        run([python, "-m", "pip", "install", "-q", f"{wheel}[test]", "-c", options.constraints],
            cwd=tmp)
        work = tmp / "elsewhere"
        work.mkdir()

        print(f"using it from {work}")
        shipped = sorted(p.stem for p in (CHECKOUT / "scenarios").glob("*.toml"))
        listed = run([lab, "list"], cwd=work)
        check(all(f" {sid} " in listed for sid in shipped),
              f"list shows all {len(shipped)} scenarios")
        check(run([lab, "show", "S16"], cwd=work).startswith("S16 "), "show S16")
        explained = run([lab, "explain", shutil.copy(SAMPLE_ERROR, work)], cwd=work)
        check("\n1. S07 prefork_shared_connection" in "\n" + explained,
              "explain names S07 first for the README's example")
        project = shutil.copytree(DOCTOR_SAMPLE, work / "shop")
        doctor = run([lab, "doctor", project], cwd=work, expect=1)
        check(any(line.startswith("S07  found") for line in doctor.splitlines()),
              "doctor finds S07 in the gunicorn sample")
        suite = work / "suite"
        suite.mkdir()
        (suite / "test_user.py").write_text(USER_SUITE)
        tested = run([python, "-m", "pytest", "-p", "no:cacheprovider"], cwd=suite, expect=1)
        check("looks like S05 shared_base" in tested, "the plugin hints S05 on a failing test")
        ran = run([lab, "run", "S05", "--variant", "repro"], cwd=work)
        check("[as declared" in ran, "run S05 runs the shipped tests from the installed lab")

        times = []
        for _ in range(5):
            started = time.perf_counter()
            run([lab, "list"], cwd=work)
            times.append(time.perf_counter() - started)
        print(f"  pitfall-lab list from the wheel: median {statistics.median(times):.3f} s "
              f"(min {min(times):.3f} s) over 5 runs")
    except (Failed, subprocess.TimeoutExpired, ValueError) as exc:
        print(f"wheel check failed: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        if options.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("wheel check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
