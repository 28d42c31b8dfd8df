"""The static HTML model catalogue: content, escaping, atomic writing, scaling, a real browser.

The page is read back with ``catalogue_pages.CataloguePage`` (its embedded
JSON decoded independently of the page's script). The scaling tests write the
catalogue of a synthetic library of 5,000 models: written in seconds, a few
MB, and in the browser loaded and filtered in under a second each.

The browser tests drive headless Chromium through selenium and chromedriver
(Debian packages ``chromium`` and ``chromium-driver``). Without them they are
skipped, unless ``SKMDL_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where they fail.
Their screenshots, and the timings at 5,000 models (``catalogue-5000-timings.json``),
go to ``$SKMDL_TEST_ARTIFACTS`` or ``test-artifacts/``.
"""

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from catalogue_pages import (TIMED_HASH, TIMED_INPUT, CataloguePage, count_text, group_button,
                             group_stats, matching, model_button, properties, synthetic_library,
                             visible_groups, visible_models)
from skmdl.library import ModelLibrary
from skmdl.library.catalogue import PAGE, write_catalogue
from skmdl.library.library import index_entry, write_index

REPO = Path(__file__).resolve().parents[2]

#: values of a hostile card: markup in every kind of place it could land
EVIL_PROPERTY = "<script>window.pwned = 1</script> toy"
EVIL_UNIT = '"><img src=x onerror="window.pwned = 2">'
EVIL_CLEANING = "</td></tr></table><b id=injected>drop & keep</b>"
EVIL_LICENSE = "<!--<script>window.pwned = 3</script>-->"  # would swallow the data block's end

#: the synthetic library of the scaling tests, and what its page may cost
N_BIG, MAX_WRITE_S, MAX_PAGE_MB, MAX_BROWSER_MS = 5000, 10.0, 15.0, 1000.0


@pytest.fixture(scope="module")
def default_catalogue(tmp_path_factory):
    lib = ModelLibrary.default()
    path = write_catalogue(lib, tmp_path_factory.mktemp("catalogue") / "site")
    return lib, path


@pytest.fixture(scope="module")
def evil_library(tmp_path_factory):
    """Two models of the default library, the first card holding markup in its text fields."""
    source = ModelLibrary.default()
    root = tmp_path_factory.mktemp("evil") / "lib"
    entries = []
    for i, model_id in enumerate(source.ids[:2]):
        folder = source.entry(model_id)["path"]
        shutil.copytree(source.artifact_path(model_id), root / folder)
        if i == 0:
            card_path = root / folder / "card.json"
            card = json.loads(card_path.read_text())
            card.update(property=EVIL_PROPERTY, unit=EVIL_UNIT, license=EVIL_LICENSE)
            card["training"]["cleaning"] = EVIL_CLEANING
            card_path.write_text(json.dumps(card))
        entries.append(index_entry(root, folder))
    write_index(root, entries, name="<i>evil</i> library")
    return ModelLibrary(root)


@pytest.fixture(scope="module")
def big_catalogue(tmp_path_factory):
    """The catalogue of a synthetic library of N_BIG models, and the seconds writing it took."""
    folder = tmp_path_factory.mktemp("big")
    lib = synthetic_library(folder / "lib", N_BIG)
    start = time.perf_counter()
    path = write_catalogue(lib, folder / "site")
    return lib, path, time.perf_counter() - start


# ------------------------------------------------------------------ content
def test_every_model_is_in_its_property_with_its_full_card(default_catalogue):
    lib, path = default_catalogue
    assert path.name == "index.html" and path.parent.name == "site"
    page = CataloguePage(path.read_text(encoding="utf-8"))
    table = lib.search()
    assert [m["id"] for m in page.models] == lib.ids == table["id"].tolist()
    assert [g["property"] for g in page.groups] == properties(table)
    for g in page.groups:
        assert g["ids"] == table[table["property"] == g["property"]]["id"].tolist()
    for model_id in (lib.ids[0], lib.ids[-1]):
        card, text = lib.card(model_id), page.card_text(model_id)
        for value in (card["property"], card["training"]["cleaning"],
                      card["training"]["dataset_sha256"], card["architecture"]["activation"],
                      f"{card['metrics']['r2']:.6g}", *lib.entry(model_id)["sha256"].values()):
            assert str(value) in text, (model_id, value)
        headings = [s[0] for s in page.card(model_id)]
        assert headings[0] == "Model" and "Architecture" in headings and headings[-1] == "Files"


def test_property_rows_count_the_models_and_their_best_metrics(default_catalogue):
    lib, path = default_catalogue
    page = CataloguePage(path.read_text(encoding="utf-8"))
    table = lib.search()
    stats = group_stats(table)
    assert len(page.groups) == len(stats) > 20
    for g in page.groups:
        best, rows = stats.loc[g["property"]], table[table["property"] == g["property"]]
        for field in ("quantity", "fidelity", "kind", "unit", "descriptor"):
            assert g[field] == "; ".join(sorted(set(rows[field].dropna()))), field
        assert g["n_models"] == str(int(best["n"])) and g["keys"]["n_models"] == best["n"]
        if np.isnan(best["mae"]):  # the multi-task trunk: an R² over its tasks, no one MAE
            assert g["keys"]["mae"] is None, g
        else:
            assert g["keys"]["mae"] == pytest.approx(best["mae"])
            assert g["mae"] == f"{best['mae']:.4g}"
        assert g["r2"] == f"{best['r2']:.3f}"
    # without JavaScript: the same property rows, with their counts
    assert [row[0] for row in page.fallback] == [g["property"] for g in page.groups]
    assert [row[6] for row in page.fallback] == [str(n) for n in stats["n"]]


def test_page_is_self_contained(default_catalogue):
    _, path = default_catalogue
    text = path.read_text(encoding="utf-8")
    tags = CataloguePage(text).tags
    assert not [t for t, a in tags if t in ("link", "img", "iframe") or "src" in a]
    assert "@import" not in text and "url(" not in text
    scripts = [a.get("type") for t, a in tags if t == "script"]
    assert scripts == ["application/json", None]  # the data, then the one script
    assert [t for t, _ in tags].count("style") == 1
    assert os.listdir(path.parent) == ["index.html"]


def test_values_are_html_escaped(evil_library, tmp_path):
    path = write_catalogue(evil_library, tmp_path / "evil")
    text = path.read_text(encoding="utf-8")
    assert "<script>window" not in text and "<img" not in text and "<b id" not in text
    assert "<i>evil" not in text and "&lt;i&gt;evil&lt;/i&gt; library" in text
    assert "<!--" not in text
    page = CataloguePage(text)
    assert "<" not in page.raw_data  # so nothing in a value can end the data block
    assert [a.get("type") for t, a in page.tags if t == "script"] == ["application/json", None]
    assert not [t for t, _ in page.tags if t in ("img", "b", "i")]
    evil_id = min(evil_library.ids)
    evil = next(g for g in page.groups if evil_id in g["ids"])
    assert evil["property"] == EVIL_PROPERTY and evil["unit"] == EVIL_UNIT  # unchanged values
    assert EVIL_PROPERTY in [row[0] for row in page.fallback]
    for value in (EVIL_PROPERTY, EVIL_CLEANING, EVIL_UNIT, EVIL_LICENSE):
        assert value in page.card_text(evil_id)


# ------------------------------------------------------------------ scaling
@pytest.mark.slow
def test_5000_models_write_fast_into_a_small_page(big_catalogue):
    lib, path, seconds = big_catalogue
    megabytes = path.stat().st_size / 1e6
    print(f"catalogue of {len(lib)} models: written in {seconds:.2f} s, {megabytes:.2f} MB")
    assert len(lib) == N_BIG and seconds < MAX_WRITE_S and megabytes < MAX_PAGE_MB
    page = CataloguePage(path.read_text(encoding="utf-8"))
    table = lib.search()
    stats = group_stats(table)
    assert [g["property"] for g in page.groups] == list(stats.index) == properties(table)
    assert [len(g["ids"]) for g in page.groups] == stats["n"].tolist()
    assert [row[6] for row in page.fallback] == [str(n) for n in stats["n"]]
    assert sorted(i for g in page.groups for i in g["ids"]) == lib.ids
    assert [g["keys"]["mae"] for g in page.groups] == pytest.approx(stats["mae"].tolist())
    assert [g["keys"]["r2"] for g in page.groups] == pytest.approx(stats["r2"].tolist())
    assert [g["r2"] for g in page.groups] == [f"{r:.3f}" for r in stats["r2"]]
    no_fidelity = [g["fidelity"] for g in page.groups if "fidelity" not in lib.entry(g["ids"][0])]
    assert no_fidelity and set(no_fidelity) == {""}  # an index from before fidelity
    for model_id in (lib.ids[0], lib.ids[N_BIG // 2], lib.ids[-1]):  # every card is all there
        card, text = lib.card(model_id), page.card_text(model_id)
        for value in (card["id"], card["property"], card["training"]["cleaning"],
                      card["training"]["dataset_sha256"], card["descriptor"]["name"],
                      f"{card['metrics']['mae']:.6g}", lib.entry(model_id)["sha256"]["card"]):
            if value is not None:  # no data file hash for models trained on a given subsample
                assert str(value) in text, (model_id, value)


# ------------------------------------------------------------------ atomic writing
def test_failure_while_rendering_leaves_no_catalogue(evil_library, tmp_path, monkeypatch):
    original, calls = ModelLibrary.card, []

    def failing_card(self, model_id):
        calls.append(model_id)
        if len(calls) == 2:
            raise OSError("disk went away")
        return original(self, model_id)

    monkeypatch.setattr(ModelLibrary, "card", failing_card)
    with pytest.raises(OSError, match="disk went away"):
        write_catalogue(evil_library, tmp_path / "new" / "site")
    assert not (tmp_path / "new" / "site").exists()


def test_failed_rename_of_a_new_folder_leaves_nothing(evil_library, tmp_path, monkeypatch):
    def broken_rename(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "rename", broken_rename)
    with pytest.raises(OSError, match="rename failed"):
        write_catalogue(evil_library, tmp_path / "site")
    assert os.listdir(tmp_path) == []  # neither the folder nor its temporary


def test_failed_replace_keeps_the_old_catalogue(evil_library, tmp_path, monkeypatch):
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("old catalogue")
    (out / "notes.txt").write_text("mine")
    real_replace = os.replace

    def broken_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        write_catalogue(evil_library, out)
    assert sorted(os.listdir(out)) == ["index.html", "notes.txt"]
    assert (out / "index.html").read_text() == "old catalogue"

    monkeypatch.setattr(os, "replace", real_replace)
    path = write_catalogue(evil_library, out)
    assert sorted(os.listdir(out)) == ["index.html", "notes.txt"]
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (out / "notes.txt").read_text() == "mine"
    assert oct(path.stat().st_mode & 0o777) == "0o644"


# ------------------------------------------------------------------ browser
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _find(path, name):
    return path if os.access(path, os.X_OK) else shutil.which(name)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by chromedriver, with a fresh profile."""
    required = os.environ.get("SKMDL_REQUIRE_BROWSER") == "1"
    chromium = _find(CHROMIUM, "chromium")
    driver_path = _find(CHROMEDRIVER, "chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        chromium = None
    if not (chromium and driver_path):
        why = "the browser test needs selenium, chromium and chromedriver"
        if required:
            pytest.fail(f"{why} (SKMDL_REQUIRE_BROWSER=1)")
        pytest.skip(why)
    profile = tempfile.mkdtemp(prefix="skmdl-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                 "--window-size=1600,1100"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("SKMDL_TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshot(driver, name) -> Path:
    from PIL import Image

    path = artifacts_dir() / name
    assert driver.save_screenshot(str(path))
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] >= 1000 and im.size[1] >= 600
        colours = im.convert("RGB").resize((200, 150)).getcolors(maxcolors=200 * 150)
    assert path.stat().st_size > 20_000 and len(colours) > 50  # not a blank page
    return path


def js_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_catalogue_in_a_browser(browser, default_catalogue):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    lib, path = default_catalogue
    table = lib.search()
    n_groups, n_models = table["property"].nunique(), len(table)
    browser.get(path.as_uri())
    assert browser.title.startswith("Model catalogue")
    assert visible_groups(browser) == properties(table) and visible_models(browser) == []
    count = browser.find_element(By.ID, "count")
    assert count.text == count_text(n_groups, n_groups, n_models, n_models)

    # search box: the properties with a matching model (ModelLibrary.search(text=...) and more)
    browser.find_element(By.ID, "search").send_keys("bulk modulus")
    bulk = matching(table, "bulk modulus")
    assert set(lib.search(text="bulk modulus")["id"]) <= set(bulk["id"])
    assert 0 < len(properties(bulk)) < n_groups and set(bulk["kind"]) != {"inorganic"}
    assert visible_groups(browser) == properties(bulk)
    assert count.text == count_text(len(properties(bulk)), n_groups, len(bulk), n_models)

    # kind filter, then minimum R², on top of the search; an open property shows its matches
    expected = matching(table, "bulk modulus", kind="inorganic", min_r2=0.9)
    opened = properties(expected)[0]
    group_button(browser, opened).click()
    assert visible_models(browser) == bulk[bulk["property"] == opened]["id"].tolist()
    Select(browser.find_element(By.ID, "filter-kind")).select_by_value("inorganic")
    assert visible_groups(browser) == properties(matching(table, "bulk modulus", kind="inorganic"))
    browser.find_element(By.ID, "min-r2").send_keys("0.9")
    assert 0 < len(expected) < len(bulk) and visible_groups(browser) == properties(expected)
    assert visible_models(browser) == expected[expected["property"] == opened]["id"].tolist()

    # clear: every property, the open one with all its models; then property, fidelity alone
    browser.find_element(By.ID, "reset").click()
    assert visible_groups(browser) == properties(table)
    assert visible_models(browser) == table[table["property"] == opened]["id"].tolist()
    group_button(browser, opened).click()
    assert visible_models(browser) == []
    Select(browser.find_element(By.ID, "filter-property")).select_by_value("band gap (OQMD)")
    assert visible_groups(browser) == ["band gap (OQMD)"]
    browser.find_element(By.ID, "reset").click()
    fidelity = table["fidelity"].dropna().iloc[0]
    Select(browser.find_element(By.ID, "filter-fidelity")).select_by_value(fidelity)
    assert visible_groups(browser) == properties(matching(table, fidelity=fidelity))
    browser.find_element(By.ID, "reset").click()

    # sortable columns: best R² descending after two clicks, blanks (none here) last
    Select(browser.find_element(By.ID, "filter-kind")).select_by_value("polymer")
    polymers = matching(table, kind="polymer")
    best_r2 = group_stats(table)["r2"].loc[properties(polymers)]
    header = browser.find_element(By.CSS_SELECTOR, "th button[data-col='8']")
    assert header.text == "best R²"
    header.click()
    assert visible_groups(browser) == best_r2.sort_values(kind="stable").index.tolist()
    header.click()
    by_r2 = best_r2.sort_values(ascending=False, kind="stable").index.tolist()
    assert visible_groups(browser) == by_r2
    assert browser.find_element(By.XPATH, "//th[button[@data-col='8']]").get_attribute(
        "aria-sort") == "descending"
    save_screenshot(browser, "catalogue-table.png")

    # open the best polymer property, then the card of its best model (rendered on opening)
    group_button(browser, by_r2[0]).click()
    models = polymers[polymers["property"] == by_r2[0]]
    assert visible_models(browser) == models["id"].tolist()
    best = models.sort_values("r2", ascending=False, kind="stable")["id"].iloc[0]
    assert not browser.find_elements(By.ID, f"card-{best}")
    button = model_button(browser, best)
    button.click()
    card_row = browser.find_element(By.ID, f"card-{best}")
    assert card_row.is_displayed() and button.get_attribute("aria-expanded") == "true"
    card = lib.card(best)
    text = card_row.text
    assert card["property"] in text and card["training"]["cleaning"] in text
    assert lib.entry(best)["sha256"]["weights"] in text and "Architecture" in text
    browser.execute_script("arguments[0].scrollIntoView()", button)
    save_screenshot(browser, "catalogue-card.png")
    # a filter that hides the model hides its open card too, and clearing it shows them again
    browser.find_element(By.ID, "search").send_keys("no such model")
    assert visible_groups(browser) == visible_models(browser) == []
    assert not [row for row in browser.find_elements(By.ID, f"card-{best}") if row.is_displayed()]
    assert browser.find_element(By.ID, "empty").is_displayed()
    browser.find_element(By.ID, "reset").click()
    assert visible_groups(browser) == group_stats(table)["r2"].sort_values(
        ascending=False, kind="stable").index.tolist()  # still sorted
    assert browser.find_element(By.ID, f"card-{best}").is_displayed()
    assert js_errors(browser) == []


def test_markup_in_a_card_does_not_run_in_a_browser(browser, evil_library, tmp_path):
    from selenium.webdriver.common.by import By

    path = write_catalogue(evil_library, tmp_path / "evil")
    browser.get(path.as_uri())  # an alert or script would surface here or below
    assert browser.execute_script("return window.pwned === undefined")
    assert not browser.find_elements(By.ID, "injected")
    evil_id = min(evil_library.ids)
    button = group_button(browser, EVIL_PROPERTY)
    assert button.text == EVIL_PROPERTY.strip()
    button.click()
    model_button(browser, evil_id).click()
    text = browser.find_element(By.ID, f"card-{evil_id}").text
    assert EVIL_CLEANING in text and EVIL_LICENSE in text and EVIL_UNIT in text
    browser.find_element(By.ID, "search").send_keys("<script>")
    assert visible_groups(browser) == [EVIL_PROPERTY] and visible_models(browser) == [evil_id]
    assert browser.execute_script("return window.pwned === undefined")
    assert not browser.find_elements(By.ID, "injected")
    assert js_errors(browser) == []


@pytest.mark.slow
def test_5000_models_load_and_filter_in_under_a_second(browser, big_catalogue):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    lib, path, write_s = big_catalogue
    table = lib.search()
    n_groups = table["property"].nunique()
    ms, loads = {}, []
    for _ in range(3):  # best of three loads: the page's cost, not a busy neighbour's
        start = time.perf_counter()
        browser.get(path.as_uri())  # may return before the load event, hence the wait below
        ms["get (webdriver round trip)"] = 1000 * (time.perf_counter() - start)
        loads.append(WebDriverWait(browser, 30).until(lambda d: d.execute_script(
            "const e = performance.getEntriesByType('navigation')[0];"
            "return e && e.name === arguments[0] && e.loadEventEnd > 0 && "
            "e.loadEventEnd - e.startTime;", path.as_uri())))
    ms["load"], ms["load, slowest of 3"] = min(loads), max(loads)
    # the first page of properties, a page more on demand
    assert n_groups > 2 * PAGE and visible_groups(browser) == properties(table)[:PAGE]
    count = browser.find_element(By.ID, "count")
    assert count.text == count_text(n_groups, n_groups, N_BIG, N_BIG)
    more = browser.find_element(By.ID, "more")
    assert more.text == f"show {PAGE} more ({n_groups - PAGE} not shown)"
    more.click()
    assert visible_groups(browser) == properties(table)[:2 * PAGE]

    browser.set_script_timeout(30)
    ms["filter: search"] = browser.execute_async_script(TIMED_INPUT, "search", "magpie")
    magpie = matching(table, "magpie")  # the composition descriptors
    assert PAGE < len(properties(magpie)) < n_groups
    assert visible_groups(browser) == properties(magpie)[:PAGE]
    ms["filter: min R²"] = browser.execute_async_script(TIMED_INPUT, "min-r2", "0.9")
    expected = matching(table, "magpie", min_r2=0.9)
    assert 0 < len(expected) < len(magpie)
    assert visible_groups(browser) == properties(expected)[:PAGE]
    assert count.text == count_text(len(properties(expected)), n_groups, len(expected), N_BIG)
    ms["filter: cleared"] = browser.execute_async_script(TIMED_INPUT, "search", "")
    browser.find_element(By.ID, "reset").click()
    assert count.text == count_text(n_groups, n_groups, N_BIG, N_BIG)

    # any model is reachable with its full card, here through its address (#id): in place on
    # the first page, else found (its id in the search box)
    first = table[table["property"] == properties(table)[0]]["id"].iloc[0]
    ms["open a card on the first page"] = browser.execute_async_script(TIMED_HASH, first)
    assert browser.find_element(By.ID, f"card-{first}").is_displayed()
    assert browser.find_element(By.ID, "search").get_attribute("value") == ""
    assert visible_groups(browser) == properties(table)[:PAGE]
    model_id = lib.ids[N_BIG // 2]
    ms["open a card far beyond"] = browser.execute_async_script(TIMED_HASH, model_id)
    card_row = browser.find_element(By.ID, f"card-{model_id}")
    card = lib.card(model_id)
    assert card_row.is_displayed() and card["training"]["cleaning"] in card_row.text
    assert browser.find_element(By.ID, "search").get_attribute("value") == model_id
    assert visible_groups(browser) == [card["property"]] and visible_models(browser) == [model_id]
    save_screenshot(browser, "catalogue-5000.png")
    report = {"models": N_BIG, "write_s": round(write_s, 3),
              "page_mb": round(path.stat().st_size / 1e6, 3),
              **{f"{k} ms": round(v, 1) for k, v in ms.items()}}
    (artifacts_dir() / "catalogue-5000-timings.json").write_text(json.dumps(report, indent=1))
    print(report)
    assert ms["load"] < MAX_BROWSER_MS and ms["filter: search"] < MAX_BROWSER_MS
    assert ms["filter: min R²"] < MAX_BROWSER_MS and ms["filter: cleared"] < MAX_BROWSER_MS
    assert ms["open a card on the first page"] < MAX_BROWSER_MS
    assert ms["open a card far beyond"] < MAX_BROWSER_MS
    assert js_errors(browser) == []
