"""Run the doctor on every repro and every fix of the lab: recall on the repros (the scenario
is reported found wherever a check covers it), false alarms on the fixes (never found).

    python tools/doctor_recall.py        # exit 0 when recall is complete and no fix is flagged

Server scenarios get --dburi on a throwaway PostgreSQL (servers.postgresql): that is how a user
tells the doctor which server the app uses. No --app: the doctor finds each variant's app as a
user's project is found (FLASK_APP, .flaskenv, the Procfile, uwsgi.ini, gunicorn.conf.py, ...).
A variant whose app does not load counts as not found, with its cause.
"""
from __future__ import annotations

import contextlib
import subprocess
import sys

from pitfall_lab import doctor
from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor import checks
from pitfall_lab.harness import servers

def main() -> int:
    covered = {c.scenario for c in checks.CHECKS}
    recall, alarms, rows = [0, 0], [0, 0], []
    with contextlib.ExitStack() as stack:
        pg = None
        for s in scenario.load_all().values():
            if s.id not in covered:
                continue
            if "postgresql" in s.servers and pg is None:
                pg = stack.enter_context(servers.postgresql())
            for v in s.variants:
                try:
                    report = doctor.examine(v.path,
                                            dburi=pg if "postgresql" in s.servers else None)
                except doctor.BadProject as exc:
                    rows.append(f"{s.code:<5}{str(v):<28} could not run: {exc}")
                    (recall if v.kind == "repro" else alarms)[1] += 1
                    continue
                found = [r for r in report.found if r.check.scenario == s.id]
                tally = recall if v.kind == "repro" else alarms
                tally[0] += bool(found)
                tally[1] += 1
                mark = ("found" if found else "NOT FOUND") if v.kind == "repro" else \
                    ("FALSE ALARM" if found else "not found")
                rows.append(f"{s.code:<5}{str(v):<28} {mark}"
                            + (f": {found[0].message}" if found else "")
                            + f" [app {report.app} from {report.app_source}]"
                            + ("" if report.loaded else
                               f" [did not load: {report.load_error['cause']}]"))
    print("\n".join(rows))
    print(f"\nrecall on the repros: {recall[0]}/{recall[1]}; false alarms on the fixes: "
          f"{alarms[0]}/{alarms[1]}")
    dirty = subprocess.run(["git", "status", "--porcelain", "--ignored", "repros", "fixes"],
                           capture_output=True, text=True, cwd=scenario.ROOT).stdout.strip()
    print(f"repros/ and fixes/ after the runs: {'unchanged' if not dirty else dirty}")
    return 0 if recall[0] == recall[1] and alarms[0] == 0 and not dirty else 1


if __name__ == "__main__":
    sys.exit(main())
