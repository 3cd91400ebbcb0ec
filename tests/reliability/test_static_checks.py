"""Security linters as tests: bandit over the service's code, pip-audit over the pinned
runtime requirements (skipped, with the reason printed, when no advisory database answers)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import requests

from tests.support import BIN, REPO_ROOT

ADVISORY_PROBE = "https://pypi.org/pypi/{name}/{version}/json"
"""pip-audit's default service: PyPI's JSON API, which lists known vulnerabilities."""


def test_bandit_finds_no_issue_in_the_service() -> None:
    result = subprocess.run(
        [str(BIN / "bandit"), "-q", "-r", "model_service", "-f", "json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    findings = json.loads(result.stdout)["results"]
    described = [
        f"{item['filename']}:{item['line_number']} {item['test_id']} {item['issue_text']}"
        for item in findings
    ]
    assert not described, "\n".join(described)


def _first_pin() -> tuple[str, str]:
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if match:
            return match.group(1), match.group(2)
    raise AssertionError("requirements.txt pins nothing")


def _advisory_database_unreachable() -> str | None:
    """Why pip-audit cannot work here, or None when PyPI's JSON API answers as it should."""
    name, version = _first_pin()
    try:
        response = requests.get(ADVISORY_PROBE.format(name=name, version=version), timeout=5)
    except requests.RequestException as error:
        return f"PyPI's JSON API is unreachable ({type(error).__name__})"
    if response.status_code != 200 or "vulnerabilities" not in response.text:
        return f"PyPI's JSON API answered {response.status_code} without advisories (a mirror?)"
    return None


@pytest.mark.slow
def test_pip_audit_finds_no_known_vulnerability_in_the_requirements() -> None:
    reason = _advisory_database_unreachable()
    if reason:
        print(f"pip-audit skipped: {reason}")
        pytest.skip(f"no advisory database reachable: {reason}")
    result = subprocess.run(
        [str(BIN / "pip-audit"), "-r", "requirements.txt", "--no-deps", "-f", "json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    dependencies = json.loads(result.stdout)["dependencies"]
    audited = [dep for dep in dependencies if "skip_reason" not in dep]
    if not audited:
        print("pip-audit skipped: no dependency could be looked up")
        pytest.skip("pip-audit could look up none of the requirements")
    vulnerable = [
        f"{dep['name']} {dep['version']}: {[vuln['id'] for vuln in dep['vulns']]}"
        for dep in audited
        if dep.get("vulns")
    ]
    assert not vulnerable, "\n".join(vulnerable)
