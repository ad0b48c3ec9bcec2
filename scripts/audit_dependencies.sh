#!/usr/bin/env bash
# Audits the installed requirements against known vulnerabilities with pip-audit, in a venv of its
# own under .local/ (so its dependencies never change the project's pins).
#
# pip-audit needs an advisory service (PyPI's JSON API or OSV). Where neither answers — as on the
# project's own machines, which reach only package files — this says so loudly and exits 0: the
# audit did NOT run, and its silence is not a pass. Known vulnerabilities found are a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
tool=.local/tools/pip-audit
if [ ! -x "$tool/bin/pip-audit" ]; then
	python3 -m venv "$tool" && "$tool/bin/pip" install --quiet --disable-pip-version-check pip-audit==2.10.1 ||
		{ echo "==> pip-audit: could not be installed: dependency audit NOT run (not a pass)"; exit 0; }
fi
site_packages=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
output=$("$tool/bin/pip-audit" --progress-spinner off --path "$site_packages" 2>&1)
status=$?
unaudited=$(echo "$output" | grep -c "could not be audited")
echo "$output" | grep -Ev "could not be audited|^Name +Skip Reason|^-+ -+$" | tail -n 40
if echo "$output" | grep -Eq "Found [0-9]+ known vulnerabilit"; then
	echo "==> pip-audit: known vulnerabilities found (above): upgrade the pins in requirements*.txt" >&2
	exit 1
elif [ "$unaudited" != 0 ]; then
	# pip-audit exits 0 here: the service answered "not found" for every package it could not look up.
	echo "==> pip-audit: the advisory service could not look up $unaudited installed packages from this machine: dependency audit NOT run for them (not a pass)"
elif [ "$status" = 0 ]; then
	echo "==> pip-audit: no known vulnerabilities in the installed requirements"
else
	echo "==> pip-audit: the advisory service could not be reached from this machine: dependency audit NOT run (not a pass)"
fi
