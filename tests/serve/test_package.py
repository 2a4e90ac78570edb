"""The command line stays light: FastAPI, uvicorn, Ray and pyarrow load only with the verb that needs them;
and each public function is imported from its home."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_cli_and_predicts_package_loads_no_server_or_ray():
    code = ("import sys, toolkit, toolkit.cli, toolkit.jobs, toolkit.jobs.stdin; "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'ray', 'pyarrow', 'prometheus_client', 'torch', "
            "'onnxruntime') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_public_functions_resolve_to_their_homes():
    import toolkit.jobs
    import toolkit.serve as package

    assert package.create_app.__module__ == "toolkit.serve.app"
    assert package.serve.__module__ == "toolkit.serve.server"
    assert toolkit.jobs.predict_corpus.__module__ == "toolkit.jobs"
