"""The web server over loopback: the portfolio page of a 1,000-client MSP and single-client
prediction through the API, beside the in-process predict function.

    .venv/bin/python bench/web.py [--clients 1000] [--months 24] [--seed 7] [--calls 300]
                                  [--concurrency 50] [--seconds 30] [--keep DIR]

1. World: simulated in a child process (bench/worlds.py), loaded with `import_dump` into a
   fresh SQLite database in a temporary folder (MODEL_DIR there too), KPIs and genome built,
   profitability trained through a TrainingRun (promoted here if it did not beat its baseline,
   in this throwaway database only, so the predict path has a version to serve). With
   `--keep DIR` a folder already prepared is reused as it is.
2. The server: `manage.py serve --no-worker` (daphne, as `make run` serves) on a free port of
   127.0.0.1, with the API's rates raised for the bench (API_RATE_*: the throttles would
   otherwise answer 429 to the load phase by design).
3. Portfolio page: a manager's session, GET / --calls times after a warm-up, median and p95 of
   the time to the last byte over loopback (an upper bound on the server's render time), and
   the same page rendered in this process by Django's test client (no network: the render).
4. Prediction: GET /api/v1/clients/<id>/predict/?kind=profitability with a token, --calls
   times over a rotation of clients, median and p99; beside the in-process `predict_client`
   on the same clients, and the ratio API / in-process.
5. Load: --concurrency clients for --seconds seconds, each looping over the predict endpoint
   and the portfolio page (one page per nine predictions), counting answers that are not 200.

Goals (issue 13): portfolio under 300 ms, API median under 20 ms and p99 under 100 ms, no
errors at 50 concurrent clients for 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PORTFOLIO_GOAL_MS = 300.0
API_MEDIAN_GOAL_MS = 20.0
API_P99_GOAL_MS = 100.0
PREDICT_PATH = "/api/v1/clients/{id}/predict/?kind=profitability"
USER, PASSWORD = "bench-manager", "bench-password-123"


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(args, work: Path) -> None:
    """Simulate, load, build and train into `work` (skipped when `work` is already prepared)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from insights.roles import MANAGER, grant
    from ml.models import ModelVersion

    done = work / "prepared"
    if done.exists():
        print(f"world: reusing {work}")
        return
    from bench.worlds import generate
    from integrations.dump import import_dump
    from ml.features.build import build_features
    from ml.registry import execute_run
    from ml.registry.training import enqueue_training
    from ml.registry.versions import promote

    call_command("migrate", verbosity=0)
    world = work / "world"
    if not (work / "loaded").exists():  # each step's marker lets a failed preparation resume
        seconds = generate(SimpleNamespace(clients=args.clients, months=args.months, seed=args.seed,
                                           leak_rate=0.05, churn_rate=0.12), world)
        print(f"simulate {args.clients} x {args.months}: {seconds:.1f} s")
        started = time.perf_counter()
        import_dump(world, progress=False)
        print(f"import_dump: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        build_features()
        print(f"build_features: {time.perf_counter() - started:.1f} s")
        shutil.rmtree(world)
        (work / "loaded").write_text("ok")
    started = time.perf_counter()
    run = execute_run(enqueue_training("profitability", trigger="command").pk)
    print(f"train profitability: {run.status} in {time.perf_counter() - started:.1f} s ({run.message})")
    version = ModelVersion.objects.filter(kind="profitability").order_by("-created_at").first()
    if version is None:
        raise SystemExit("profitability did not train: the bench has no model to serve")
    if version.status != ModelVersion.Status.ACTIVE:
        promote(version)  # this throwaway database only: the bench needs a version to serve
        print(f"promoted profitability v{version.version} for the bench (it did not beat its baseline)")
    user, _ = get_user_model().objects.get_or_create(username=USER, defaults={"email": "bench@msp.example"})
    user.set_password(PASSWORD)
    user.save()
    grant(user, MANAGER)
    done.write_text("ok")


def in_process(args) -> dict:
    """The portfolio page rendered by Django's test client, and predict_client, in this process."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from ml.estimators.profitability.predict import predict_client
    from ml.models import ClientMonthKPI

    month = ClientMonthKPI.objects.latest_complete_month()
    ids = list(ClientMonthKPI.objects.filter(month=month).order_by("client_id").values_list("client_id", flat=True))
    browser = Client()
    browser.force_login(get_user_model().objects.get(username=USER))
    assert browser.get("/").status_code == 200
    renders = []
    for _ in range(min(args.calls, 50)):
        started = time.perf_counter()
        response = browser.get("/")
        renders.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    predict_client(ids[0])
    predicts = []
    for i in range(args.calls):
        started = time.perf_counter()
        predict_client(ids[i % len(ids)])
        predicts.append((time.perf_counter() - started) * 1000)
    return {"ids": ids, "renders": renders, "predicts": predicts, "clients": len(ids)}


def start_server(work: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, API_RATE_READ="1000000/min", API_RATE_PREDICT="1000000/min",
               API_RATE_WRITE="1000000/min", API_RATE_BATCH="1000000/min")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-worker", "--port", str(port)],
        cwd=ROOT, env=env, stdout=open(work / "server.log", "w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not start: see {work / 'server.log'}")


def stop_server(server: subprocess.Popen) -> None:
    import signal

    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def session(base: str):
    """A signed-in manager's browser session (through the login form, CSRF and all)."""
    import httpx

    browser = httpx.Client(base_url=base, timeout=30)
    page = browser.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = browser.post("/accounts/login/", data={"username": USER, "password": PASSWORD,
                                                    "csrfmiddlewaretoken": token}, headers={"Referer": base})
    assert answer.status_code in (200, 302), answer.status_code
    return browser


def api_token() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=get_user_model().objects.get(username=USER))[0].key


def over_loopback(args, base: str, ids: list[int], token: str) -> dict:
    import httpx

    browser = session(base)
    first = browser.get("/")
    assert first.status_code == 200, first.status_code
    pages = []
    for _ in range(min(args.calls, 50)):
        started = time.perf_counter()
        response = browser.get("/")
        pages.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    api = httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30)
    warm = api.get(PREDICT_PATH.format(id=ids[0]))
    assert warm.status_code == 200, (warm.status_code, warm.text[:300])
    calls = []
    for i in range(args.calls):
        started = time.perf_counter()
        response = api.get(PREDICT_PATH.format(id=ids[i % len(ids)]))
        calls.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (response.status_code, response.text[:300])
    return {"pages": pages, "calls": calls, "cookies": dict(browser.cookies)}


async def load(args, base: str, ids: list[int], token: str, cookies: dict) -> dict:
    import httpx

    deadline = time.perf_counter() + args.seconds
    counts = {"ok": 0, "errors": 0, "statuses": {}}
    times: list[float] = []
    limits = httpx.Limits(max_connections=args.concurrency)

    async def one(worker: int, api, browser) -> None:
        i = worker
        while time.perf_counter() < deadline:
            i += 1
            started = time.perf_counter()
            try:
                if i % 10 == 0:
                    response = await browser.get("/")
                else:
                    response = await api.get(PREDICT_PATH.format(id=ids[i % len(ids)]))
                status = response.status_code
            except httpx.HTTPError as error:
                status = type(error).__name__
            times.append((time.perf_counter() - started) * 1000)
            if status == 200:
                counts["ok"] += 1
            else:
                counts["errors"] += 1
                counts["statuses"][status] = counts["statuses"].get(status, 0) + 1

    async with (httpx.AsyncClient(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30,
                                  limits=limits) as api,
                httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30, limits=limits) as browser):
        started = time.perf_counter()
        await asyncio.gather(*(one(w, api, browser) for w in range(args.concurrency)))
        counts["seconds"] = time.perf_counter() - started
    counts["times"] = times
    return counts


def report(args, local: dict, remote: dict, loaded: dict) -> None:
    page_median, page_p95 = statistics.median(remote["pages"]), quantile(remote["pages"], 0.95)
    render_median = statistics.median(local["renders"])
    api_median, api_p99 = statistics.median(remote["calls"]), quantile(remote["calls"], 0.99)
    local_median, local_p99 = statistics.median(local["predicts"]), quantile(local["predicts"], 0.99)
    print(f"\nportfolio page, {local['clients']} clients with KPIs in the reported month")
    print(f"  over loopback: median {page_median:.1f} ms, p95 {page_p95:.1f} ms "
          f"(goal < {PORTFOLIO_GOAL_MS:.0f} ms: {verdict(page_median < PORTFOLIO_GOAL_MS)})")
    print(f"  rendered in process (test client): median {render_median:.1f} ms, "
          f"p95 {quantile(local['renders'], 0.95):.1f} ms")
    print(f"single-client profitability prediction, {args.calls} calls")
    print(f"  API over loopback: median {api_median:.1f} ms (goal < {API_MEDIAN_GOAL_MS:.0f}: "
          f"{verdict(api_median < API_MEDIAN_GOAL_MS)}), p99 {api_p99:.1f} ms "
          f"(goal < {API_P99_GOAL_MS:.0f}: {verdict(api_p99 < API_P99_GOAL_MS)})")
    print(f"  predict_client in process: median {local_median:.2f} ms, p99 {local_p99:.2f} ms")
    print(f"  API / in process: {api_median / local_median:.1f}x at the median, {api_p99 / local_p99:.1f}x at p99")
    total = loaded["ok"] + loaded["errors"]
    print(f"load: {args.concurrency} clients for {loaded['seconds']:.1f} s: {total:,} requests "
          f"({total / loaded['seconds']:.0f}/s), {loaded['errors']} errors {loaded['statuses'] or ''}"
          f" (goal 0: {verdict(loaded['errors'] == 0)}); median {statistics.median(loaded['times']):.0f} ms, "
          f"p99 {quantile(loaded['times'], 0.99):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--keep", help="prepare the world in this folder, or reuse it when already prepared")
    args = parser.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="superhack-web-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["SUPERHACK_VAR_DIR"] = str(work / "var")
    os.environ["MODEL_DIR"] = str(work / "models")
    os.environ["DJANGO_SETTINGS_MODULE"] = "superhack.settings"
    print(f"load average at the start: {load_text()}")
    try:
        prepare(args, work)
        local = in_process(args)
        token = api_token()
        port = free_port()
        server = start_server(work, port)
        try:
            base = f"http://127.0.0.1:{port}"
            remote = over_loopback(args, base, local["ids"], token)
            loaded = asyncio.run(load(args, base, local["ids"], token, remote["cookies"]))
        finally:
            stop_server(server)
        report(args, local, remote, loaded)
    finally:
        print(f"load average at the end: {load_text()}")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
