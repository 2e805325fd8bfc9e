"""Side by side: the itinerary schema checked by jsonschema, jsonschema-rs and fastjsonschema.

    python bench/validators.py [--sizes 2000 20000] [--repeat 5]

The same generated documents as bench/import.py, parsed once with json and with orjson; each
validator checks the schema with its "$defs" inlined (as the product does) and the same
format checks (date, email, uri: jsonschema's own checkers, handed to the compiled
validators, so every validator accepts exactly the same documents). Times are the best of
`--repeat` runs, in seconds. Chosen for the product: the fastest that agrees on every
document in tests/ (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fastjsonschema  # noqa: E402
import jsonschema_rs  # noqa: E402
import orjson  # noqa: E402
from jsonschema import Draft202012Validator  # noqa: E402

from scheduler.itinerary.document import _inline_definitions, schema  # noqa: E402

FORMATS = ("date", "email", "uri")


def _format(name):
    checker = Draft202012Validator.FORMAT_CHECKER
    return lambda value: checker.conforms(value, name)


def best(repeat, fn) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    from importlib import import_module

    generate = import_module("import").generate
    sizes = {2000: 200, 20000: 2000}
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(sizes))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    inlined = _inline_definitions(schema(), schema()["$defs"])
    formats = {name: _format(name) for name in FORMATS}
    py = Draft202012Validator(inlined, format_checker=Draft202012Validator.FORMAT_CHECKER)
    rs = jsonschema_rs.Draft202012Validator(inlined, formats=formats, validate_formats=True)
    fast = fastjsonschema.compile(inlined, formats=formats)

    print(f"best of {args.repeat}; seconds")
    print(
        "| meetings | MiB | json.loads | orjson.loads "
        "| jsonschema | jsonschema-rs | fastjsonschema |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for meetings in args.sizes:
        text = json.dumps(generate(meetings, sizes.get(meetings, meetings // 10))).encode()
        doc = orjson.loads(text)
        assert not list(py.iter_errors(doc)) and rs.is_valid(doc)
        fast(doc)
        row = [
            best(args.repeat, lambda text=text: json.loads(text)),
            best(args.repeat, lambda text=text: orjson.loads(text)),
            best(args.repeat, lambda doc=doc: list(py.iter_errors(doc))),
            best(args.repeat, lambda doc=doc: rs.is_valid(doc)),
            best(args.repeat, lambda doc=doc: fast(doc)),
        ]
        print(
            f"| {meetings:,} | {len(text) / 2**20:.1f} | "
            + " | ".join(f"{t:.3f}" for t in row)
            + " |",
            flush=True,
        )


if __name__ == "__main__":
    main()
