"""The harness that runs scenarios for real: child processes in their own process groups with
bounded waits (``procs``), the servers and where they come from (``servers``, ``reaper``,
``wsgi_servers``), rq workers (``rqjobs``), load and HTTP (``load``, ``web``, ``webhook``),
databases (``sql``, ``dburi``), cron lines (``cron``), the run record and the one function that
starts a child pytest (``runrecord``), and REPORT.md (``report``).

May import: the catalogue. Not the user-facing tools (doctor, explain, guard).
"""
