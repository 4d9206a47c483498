"""The reproductions of issue 14 ("hardening"), each in a fresh process: what it gives now,
in how much time and memory.

    python benchmarks/hardening.py

Prints one row per reproduction: the outcome (a result or the error line), wall seconds, the
peak of Python allocations (tracemalloc, MB, set-up included) and the peak resident size (MB)
of the process, or of the `prompt-router` command it ran (which includes the interpreter,
numpy and tiktoken: 55-100 MB before any work).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HARNESS = """
import json, resource, sys, time, tracemalloc, traceback
tracemalloc.start()
start = time.perf_counter()
try:
    outcome = run()
except BaseException as exc:
    outcome = f"{type(exc).__name__}: {str(exc).splitlines()[0][:150]}"
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1] / 1e6
print(json.dumps({"outcome": str(outcome)[:160], "seconds": seconds, "peak_mb": peak,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3,
                  "child_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e3}))
"""

SETUP = """
import os, shutil, json
from pathlib import Path
from prompt_router import PromptRouter, RouterSettings, load_library, bundled_library_dir
WORK = Path({work!r})
def library_copy(name):
    root = WORK / name
    shutil.copytree(bundled_library_dir(), root)
    return root
def cli(*argv, stdin=None):
    import subprocess, sys
    proc = subprocess.run([sys.executable, "-m", "prompt_router.cli", *argv], input=stdin, capture_output=True, timeout=600,
                          env={{k: v for k, v in os.environ.items() if not k.startswith("PROMPT_ROUTER_")}})
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    problems = [line.strip() for line in out.splitlines() + err if line.strip().startswith("- ") or line.startswith("prompt-router:")]
    return f"exit {{proc.returncode}}, {{out.count(chr(10))}} stdout lines; {{problems[0][:130] if problems else ''}}"
"""

CASES: list[tuple[str, str]] = [
    ("1 history turn of 10 MB (default router)", """
        r = PromptRouter.from_settings()
        history = ['word ' * 2_000_000]
        modes = [r.system_prompt(q, history=history).mode for q in ('ok', 'and now', 'chart it')]
        return f"{r.router.name}: 3 requests, modes {set(modes)}"
    """),
    ("2 400 queries of one 30k-char token (default router)", """
        r = PromptRouter.from_settings()
        for _ in range(400):
            r.system_prompt(os.urandom(15000).hex())
        return f"{r.router.name}: route cache {r.cache_stats['route'].bytes / 1e6:.1f} MB in {r.cache_stats['route'].size} entries"
    """),
    ("2 the same, keyword router", """
        r = PromptRouter.from_settings(RouterSettings(router='keyword'))
        for _ in range(400):
            r.system_prompt(os.urandom(15000).hex())
        return f"{r.router.name}: ok"
    """),
    ("2 route --stdin, 50,000 distinct lines", """
        lines = "".join(os.urandom(8).hex() + " plot " + os.urandom(400).hex() + "\\n" for _ in range(50_000))
        return cli("route", "--stdin", stdin=lines.encode())
    """),
    ("3 re:(a+)+b on 'a'*28+'!' and on 30,000 a's", """
        root = library_copy("re")
        (root / "tools" / "regex.md").write_text("---\\ntriggers: ['re:(a+)+b']\\n---\\nRegex.\\n")
        r = PromptRouter(load_library(root), settings=RouterSettings(router='keyword'))
        r.system_prompt('a' * 28 + '!')
        r.system_prompt('a' * 30_000 + '!')
        return "routed both"
    """),
    ("4 symlink tools/passwd.md -> /etc/passwd, build hi", """
        root = library_copy("ln")
        (root / "tools" / "passwd.md").symlink_to("/etc/passwd")
        return cli("build", "hi", "--modules", str(root))
    """),
    ("4 symlink to /dev/zero and a FIFO, validate", """
        root = library_copy("dev")
        (root / "tools" / "zero.md").symlink_to("/dev/zero")
        os.mkfifo(root / "tools" / "pipe.md")
        return cli("validate", str(root))
    """),
    ("5 lone surrogate in a case, existing --report-dir", """
        cases = WORK / "s.jsonl"
        cases.write_text('{"id":"s\\\\ud800","query":"x \\\\ud800","category":"c","needs":[]}\\n')
        out = WORK / "report"
        out.mkdir()
        for name in ("report.json", "report.md", "report.html"):
            (out / name).write_text("old")
        result = cli("ab-test", "--cases", str(cases), "--report-dir", str(out), "--quiet")
        json.loads((out / "report.json").read_text())
        old = [p.name for p in out.iterdir() if p.read_text() == "old"]
        return result.split(", stderr")[0] + f", report.json valid JSON, files still old: {old}"
    """),
    ("7 weights_float16_base64 = '!!!x', route x", """
        root = library_copy("bad")
        artefact = root / "learned_router.json"
        data = json.loads(artefact.read_text())
        data["weights_float16_base64"] = "!!!x"
        artefact.write_text(json.dumps(data))
        return cli("route", "--json", "x", "--modules", str(root))
    """),
    ("8 context workspace_root=['a']", """
        from prompt_router import load_library
        root = WORK / "ctx"
        for group in ("core", "tools", "response"):
            (root / group).mkdir(parents=True)
        (root / "library.yaml").write_text("variables:\\n  workspace_root: {description: x}\\n")
        (root / "core" / "ws.md").write_text("Root: {{ workspace_root }}\\n")
        (root / "response" / "f.md").write_text("Answer.\\n")
        r = PromptRouter(load_library(root))
        r.system_prompt("x", context={"workspace_root": ["a"]})
    """),
    ("9 UTF-8 BOM before the front matter", """
        root = library_copy("bom")
        (root / "tools" / "m.md").write_bytes(b"\\xef\\xbb\\xbf---\\ntriggers: [zebra]\\n---\\nbody\\n")
        r = PromptRouter(load_library(root), settings=RouterSettings(router='keyword'))
        d = r.system_prompt("zebra").decision
        return f"m selected by {d.reasons['m']}, front matter in prompt: {'triggers:' in r.system_prompt('zebra').text}"
    """),
    ("10 route --stdin with invalid UTF-8 (PYTHONIOENCODING=utf-8)", """
        os.environ["PYTHONIOENCODING"] = "utf-8"
        return cli("route", "--stdin", stdin=b"plot csv\\n\\xff\\n")
    """),
    ("- Jinja {{ 'ab' * 300000000 }} in a module, validate", """
        root = library_copy("jinja")
        (root / "tools" / "boom.md").write_text("---\\ntriggers: [boom]\\n---\\n{{ 'ab' * 300000000 }}\\n")
        return cli("validate", str(root))
    """),
    ("- a 40 MB module, validate", """
        root = library_copy("big")
        (root / "tools" / "big.md").write_text("---\\ntriggers: [big]\\n---\\n" + "x " * 20_000_000)
        return cli("validate", str(root))
    """),
    ("- zero-width and look-alike: 'open the c\\u200bsv', '\\u0441sv'", """
        r = PromptRouter.from_settings(RouterSettings(router='keyword'))
        return [r.system_prompt(q).decision.reasons.get('data_processing') for q in ("open the c\\u200bsv", "open the \\u0441sv")]
    """),
    ("- TELEMETRY_SHUTDOWN_TIMEOUT=inf, route x", """
        os.environ["PROMPT_ROUTER_TELEMETRY_SHUTDOWN_TIMEOUT"] = "inf"
        import subprocess, sys
        proc = subprocess.run([sys.executable, "-m", "prompt_router.cli", "route", "x"], capture_output=True, text=True)
        return f"exit {proc.returncode}: {proc.stderr.strip()}"
    """),
    ("- a router never closed: telemetry threads after gc", """
        import gc, threading, time
        s = RouterSettings(sentry_dsn="http://k@127.0.0.1:9/1", router="keyword")
        for _ in range(5):
            r = PromptRouter.from_settings(s)
            r.system_prompt("deploy")
            r.observers[0].flush(1)
            del r
        gc.collect()
        time.sleep(0.5)
        return [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    """),
]


def main() -> None:
    print(f"{'reproduction':58} {'seconds':>8} {'peak MB':>8} {'RSS MB':>7}  outcome")
    for name, body in CASES:
        with tempfile.TemporaryDirectory() as work:
            code = (SETUP.format(work=work) + "\ndef run():\n" + textwrap.indent(textwrap.dedent(body), "    ") + HARNESS)
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=work, timeout=900)
        try:
            row = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            print(f"{name:58} failed: {proc.stderr.strip()[-300:]}")
            continue
        rss = row["child_rss_mb"] if row["child_rss_mb"] > 0 else row["rss_mb"]
        print(f"{name:58} {row['seconds']:8.2f} {row['peak_mb']:8.1f} {rss:7.0f}  {row['outcome']}")


if __name__ == "__main__":
    main()
