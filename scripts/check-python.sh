#!/usr/bin/env bash
# Refuses an interpreter without the email fixes Postdesk relies on (CVE-2024-6923, CVE-2023-27043).
set -euo pipefail
python="${1:-python3}"
"$python" - <<'PY' || exit 1
import email.errors, email.utils, inspect, sys
problems = []
if sys.version_info < (3, 13):
    problems.append(f"Python 3.13 or newer is required, this is {sys.version.split()[0]} ({sys.executable})")
if not hasattr(email.errors, "HeaderWriteError"):
    problems.append("email.errors.HeaderWriteError is missing: no fix for CVE-2024-6923 (header injection)")
if "strict" not in inspect.signature(email.utils.getaddresses).parameters:
    problems.append("email.utils.getaddresses has no strict=: no fix for CVE-2023-27043 (address parsing)")
if problems:
    sys.stderr.write("postdesk: refusing this Python interpreter:\n  - " + "\n  - ".join(problems)
                     + "\nInstall Python 3.13 (pyenv reads .python-version) or run: make PYTHON=/path/to/python3.13\n")
    sys.exit(1)
PY
