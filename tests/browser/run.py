"""The web console in a real browser: headless Chromium (Debian package `chromium`) driven
by Playwright for Python, against a real `registry serve` on a fresh data file.

    .venv/bin/python3 tests/browser/run.py [--binary PATH] [--screenshots DIR]

Seeds through the `registry admin` CLI and the public API (tokens, operators whose names
are XSS probes, journeys, a campaign with a budget), then checks, page by page: signing
in and out, a bad token, a token created and shown once, a revocation, the journey list
filtered, a campaign upload refused with its errors next to their paths, the budget chart
drawn, the certificate page, and that `<img src=x onerror=alert(1)>` in a journey id, an
operator name and a campaign name shows as those characters (no dialog, no <img>).

A failing check saves a screenshot (`failure-<check>.png`) in the screenshots directory
(default: a temporary one, printed). With `--pages DIR` it also saves one picture of each
page there (docs/console/ holds the committed ones).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import date, datetime, timezone
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
PROBE = "<img src=x onerror=alert(1)>"
TERRITORY = "browser-territory"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from registry_process import call, cli, must, serve  # noqa: E402


class Seed:
    """What the checks use: tokens, ids, the base URL."""

    def __init__(self, binary: str, data: Path):
        self.admin = cli(binary, data, "admin", "token", "create", "--name", "browser", "--role", "registry-admin")["token"]
        self.operator = cli(binary, data, "admin", "operator", "create", "--name", "Covoit " + PROBE)["id"]
        self.app = cli(binary, data, "admin", "token", "create", "--operator", str(self.operator), "--name", "server")["token"]
        self.operator_admin = cli(
            binary, data, "admin", "token", "create", "--operator", str(self.operator), "--name", "admin", "--role", "operator-admin"
        )["token"]
        self.territory = cli(
            binary, data, "admin", "token", "create", "--role", "territory", "--territory", TERRITORY, "--name", "territory"
        )["token"]
        self.binary = binary

    def journeys(self, base: str) -> None:
        campaign = json.loads((ROOT / "examples/campaigns/driver-150c-geojson.json").read_text())
        campaign.update(id="browser-paris", name="Paris " + PROBE, territory_id=TERRITORY,
                        start="2025-01-01", end=f"{date.today().year + 1}-12-31")
        campaign["caps"] = [c for c in campaign["caps"] if c["kind"] != "budget"] + [{"kind": "budget", "max": 1000}]
        must(call(base, "POST", "/v2/campaigns", self.admin, campaign), 201, "a campaign")
        for journey_id, phones in [("browser-1", ("+33611111111", "+33622222222")),
                                   (PROBE, ("+33633333333", "+33644444444"))]:
            doc = json.loads(subprocess.run([self.binary, "journeys", "example", "--id", journey_id],
                                            check=True, capture_output=True, text=True).stdout)
            doc["passenger"]["identity"]["phone"], doc["driver"]["identity"]["phone"] = phones
            must(call(base, "POST", "/v2/journeys", self.app, doc), 201, f"journey {journey_id}")
        for _ in range(100):  # the server's worker processes them
            status, page = call(base, "GET", "/v2/journeys?status=ok", self.app)
            if status == 200 and len(page["journeys"]) == 2:
                break
            time.sleep(0.2)
        else:
            sys.exit(f"journeys not processed: {page}")
        self.certificate = must(call(base, "POST", "/v2/certificates", self.app, {
            "identity": {"phone": "+33611111111"}, "tz": "Europe/Paris",
            "start_at": "2025-01-01T00:00:00Z", "end_at": datetime.now(timezone.utc).isoformat()}), 201, "a certificate")["uuid"]


def sign_in(page: Page, base: str, token: str, operator: str | None = None) -> None:
    page.goto(base + "/")
    page.fill("input[name=token]", token)
    if operator:
        page.fill("input[name=operator]", operator)
    page.click("#signin button[type=submit]")


def no_probe_fired(page: Page) -> None:
    """The probe rendered as text: its characters are in the page, no <img> element."""
    expect(page.get_by_text(PROBE).first).to_be_visible()
    assert page.locator("img").count() == 0, "an <img> element was created"


def checks(seed: Seed, base: str, shots: Path | None):
    def picture(page: Page, name: str):
        if shots:
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    def sign_in_and_out(page: Page):
        sign_in(page, base, "rpc.nothing.wrong")
        expect(page.locator("#message")).to_contain_text("Jeton refusé")
        assert page.evaluate("sessionStorage.getItem('token')") is None
        picture(page, "sign-in")
        sign_in(page, base, seed.operator_admin, str(seed.operator))
        expect(page.locator("#signout")).to_be_visible()
        assert page.evaluate("sessionStorage.getItem('token')") == seed.operator_admin
        assert page.context.cookies() == [] and seed.operator_admin not in page.url
        page.click("#signout")
        expect(page.locator("#signin")).to_be_visible()
        assert page.evaluate("sessionStorage.getItem('token')") is None
        page.click("#lang")
        expect(page.locator("#signin button[type=submit]")).to_have_text("Sign in")

    def token_shown_once_and_revoked(page: Page):
        sign_in(page, base, seed.operator_admin, str(seed.operator))
        page.click("a[href='#/tokens']")
        page.fill("#create-token input[name=name]", "reader " + PROBE)
        for box in page.locator("#create-token input[name=permission]").all():
            if box.get_attribute("value") != "journey.read":
                box.uncheck()
        page.click("#create-token button[type=submit]")
        secret = page.locator("#secret")
        expect(secret).to_contain_text("rpc.")
        token = secret.inner_text()
        expect(page.locator("#copy")).to_be_visible()
        row = page.locator("#token-list tr", has_text="reader " + PROBE)
        expect(row).to_contain_text("journey.read")
        no_probe_fired(page)
        picture(page, "tokens")
        assert call(base, "GET", "/v2/journeys", token)[0] == 200
        page.reload()
        expect(page.locator("#token-list")).to_be_visible()
        assert page.locator("#secret").count() == 0, "the token is shown once"
        page.once("dialog", lambda d: d.accept())
        row.locator("button.revoke").click()
        expect(row).to_contain_text("révoqué")
        assert call(base, "GET", "/v2/journeys", token)[0] == 401
        # A revoked token in the console: a clear message, signed out.
        page.click("#signout")
        sign_in(page, base, token)
        expect(page.locator("#message")).to_contain_text("Jeton refusé")

    def journeys_filtered(page: Page):
        sign_in(page, base, seed.operator_admin, str(seed.operator))
        expect(page.locator("#journeys tbody tr")).to_have_count(2)
        no_probe_fired(page)
        expect(page.locator("#journeys")).to_contain_text("browser-paris")
        picture(page, "journeys")
        page.select_option("select[name=status]", "fraud_error")
        page.click("#journey-filter button[type=submit]")
        expect(page.locator("#journeys")).to_contain_text("Aucun résultat")
        page.select_option("select[name=status]", "ok")
        page.click("#journey-filter button[type=submit]")
        expect(page.locator("#journeys tbody tr")).to_have_count(2)
        page.locator("#journeys a.journey", has_text=PROBE).click()
        expect(page.locator("#journey-detail")).to_have_text(PROBE)
        expect(page.locator("main")).to_contain_text("browser-paris")
        assert page.locator("img").count() == 0
        picture(page, "journey")
        page.click("a[href='#/statement']")
        expect(page.locator("#statement")).to_be_visible()
        picture(page, "statement")

    def operators_page(page: Page):
        sign_in(page, base, seed.admin)
        expect(page.locator("#operators")).to_contain_text("Covoit " + PROBE)
        no_probe_fired(page)
        page.fill("#create-operator input[name=name]", "Nouvel opérateur")
        page.click("#create-operator button[type=submit]")
        expect(page.locator("#operators")).to_contain_text("Nouvel opérateur")
        picture(page, "operators")

    def upload_refused(page: Page, tmp: Path):
        sign_in(page, base, seed.admin)
        page.click("a[href='#/campaigns']")
        expect(page.locator("#campaigns")).to_contain_text("browser-paris")
        no_probe_fired(page)
        bad = tmp / "bad-campaign.json"
        doc = json.loads((ROOT / "examples/campaigns/driver-150c-geojson.json").read_text())
        doc.update(id="bad-one", territory_id=TERRITORY, distance={"min": 90000, "max": 1000})
        bad.write_text(json.dumps(doc))
        page.set_input_files("#upload input[name=file]", str(bad))
        page.click("#upload button[type=submit]")
        errors = page.locator("#upload-result .errors li")
        expect(errors.first).to_be_visible()
        expect(page.locator("#upload-result")).to_contain_text("/distance")
        expect(page.locator("#upload-result .errors code").first).to_have_text("/distance/max")
        picture(page, "campaign-upload-refused")

    def budget_chart(page: Page):
        sign_in(page, base, seed.territory)
        expect(page.locator("#campaigns")).to_contain_text("browser-paris")
        page.click("a[href='#/campaigns/browser-paris']")
        expect(page.locator("#campaign h1")).to_have_text("Paris " + PROBE)
        assert page.locator("img").count() == 0
        picture(page, "campaign")
        page.click("a[href='#/campaigns/browser-paris/month']")
        chart = page.locator("#budget-chart")
        expect(chart).to_be_visible()
        assert chart.locator("rect.bar").count() >= 1, "a bar per day with incentives"
        assert chart.locator("line.budget").count() == 1, "the budget line"
        assert chart.locator("rect.bar").count() <= date.today().day, "no bar for the days to come"
        label, frame = chart.locator("text[text-anchor=end]").bounding_box(), chart.bounding_box()
        assert label and frame and label["x"] + label["width"] <= frame["x"] + frame["width"], "the last day's label is cut off"
        picture(page, "campaign-month")

    def certificate_page(page: Page):
        response = page.goto(f"{base}/v2/certificates/{seed.certificate}")
        assert response is not None and response.status == 200
        expect(page.locator("h1")).to_contain_text("Certificat authentique")
        expect(page.locator("body")).to_contain_text("Covoit " + PROBE)
        assert page.locator("img").count() == 0
        picture(page, "certificate")
        response = page.goto(f"{base}/v2/certificates/00000000-0000-4000-8000-000000000000")
        assert response is not None and response.status == 404
        expect(page.locator("h1")).to_contain_text("Certificat inconnu")

    return [sign_in_and_out, token_shown_once_and_revoked, journeys_filtered, operators_page,
            upload_refused, budget_chart, certificate_page]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug/registry"))
    parser.add_argument("--screenshots", help="where failures are pictured (default: a temporary directory)")
    parser.add_argument("--pages", help="save a picture of each page here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="registry-browser-"))
    failures_dir = Path(args.screenshots) if args.screenshots else work
    failures_dir.mkdir(parents=True, exist_ok=True)
    pages_dir = Path(args.pages) if args.pages else None
    if pages_dir:
        pages_dir.mkdir(parents=True, exist_ok=True)
    data = work / "registry.db"
    seed = Seed(args.binary, data)
    failed = []
    with serve(args.binary, data, work / "serve.log") as base:
        seed.journeys(base)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for check in checks(seed, base, pages_dir):
                context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="fr-FR")
                page = context.new_page()
                dialogs: list[str] = []
                # alert(1) from a probe would land here (confirmations are the checks' own).
                page.on("dialog", lambda d, seen=dialogs: (seen.append(d.type), d.dismiss() if d.type == "alert" else None))
                errors: list[str] = []
                page.on("console", lambda m, seen=errors: seen.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
                try:
                    if check.__code__.co_argcount == 2:
                        check(page, work)
                    else:
                        check(page)
                    assert "alert" not in dialogs, f"the XSS probe ran: {dialogs}"
                    assert not errors, f"CSP violations: {errors}"
                    print(f"ok   {check.__name__}")
                except Exception:
                    shot = failures_dir / f"failure-{check.__name__}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    print(f"FAIL {check.__name__} (screenshot {shot})\n{traceback.format_exc()}")
                    failed.append(check.__name__)
                finally:
                    context.close()
            browser.close()
    print(f"browser checks: {7 - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
