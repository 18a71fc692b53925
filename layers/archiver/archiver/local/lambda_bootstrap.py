"""Lambda's Python runtime in miniature: import the handler from the built artifact, invoke it once.

Run by archiver.local.built in a clean interpreter, never imported:

    python3.12 -I -S lambda_bootstrap.py --path TASK --path LAYER --path RUNTIME EVENT.json RESULT.json

`-I -S`: no PYTHON* variables, no site-packages, not even this file's folder on sys.path; the
`--path` folders (the function's /var/task, the layer's /opt/python, the runtime's boto3) are put
first, as PYTHONPATH is in Lambda. Standard library only. The handler is `_HANDLER` (module.function),
called with the event and a context as Lambda's; RESULT.json gets its response (or Lambda's error
shape), the init and invocation durations, and where each imported top-level module came from.
"""

import argparse
import importlib
import json
import os
import resource
import sys
import sysconfig
import time
import traceback
import uuid


class LambdaContext:
    """The attributes of Lambda's context object (the ones Powertools and the handler read)."""

    def __init__(self, timeout_s: float):
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.function_name = name
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{name}")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(kind: str, exc: BaseException) -> dict:
    return {"errorType": kind or type(exc).__name__, "errorMessage": str(exc),
            "stackTrace": traceback.format_exception(exc)}


def _origins(roots: list[str]) -> dict[str, str]:
    """Top-level module -> the --path folder it came from, "stdlib", "builtin", or else its own path."""
    folders = {root: os.path.realpath(root) + os.sep for root in roots}
    stdlib = tuple({os.path.realpath(sysconfig.get_paths()[key]) + os.sep for key in ("stdlib", "platstdlib")})
    origins = {}
    for name, module in list(sys.modules.items()):
        if "." in name or name in ("__main__", "__mp_main__"):  # this bootstrap itself
            continue
        path = getattr(module, "__file__", None)
        if not path:
            origins[name] = "builtin"
            continue
        path = os.path.realpath(path)
        root = next((root for root, folder in folders.items() if path.startswith(folder)), None)
        origins[name] = root or ("stdlib" if path.startswith(stdlib) else path)
    return origins


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", action="append", default=[], help="a folder to import from, in order")
    parser.add_argument("--timeout", type=float, default=300.0, help="the function's timeout, seconds")
    parser.add_argument("event")
    parser.add_argument("result")
    args = parser.parse_args()
    sys.path[:0] = args.path
    with open(args.event, encoding="utf-8") as f:
        event = json.load(f)
    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)

    result: dict = {}
    started = time.perf_counter()
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as exc:  # Lambda reports a failed init as the invocation's error
        handler, result["response"] = None, _error("Runtime.ImportModuleError", exc)
    result["init_ms"] = round((time.perf_counter() - started) * 1000, 1)
    if handler is not None:
        started = time.perf_counter()
        try:
            result["response"] = handler(event, LambdaContext(args.timeout))
        except Exception as exc:  # the handler raising is how Lambda reports a failed invocation
            result["response"] = _error("", exc)
        result["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    result["max_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["modules"] = _origins(args.path)
    sys.stdout.flush()
    with open(args.result, "w", encoding="utf-8") as f:
        json.dump(result, f, default=str)
    print(f"REPORT Init Duration: {result['init_ms']} ms\tDuration: {result.get('duration_ms', 0)} ms\t"
          f"Max Memory Used: {result['max_memory_mb']} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
